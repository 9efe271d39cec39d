#!/usr/bin/env bash
# Builds kube-apiserver, etcd (and helm, for the chart test) from the Go module proxy into a cache folder
# for controller-runtime's envtest (KUBEBUILDER_ASSETS). No prebuilt binaries
# are downloaded: both are compiled from source in scratch modules that live
# in the cache, never in the repository's go.mod.
#
#   .ci/envtest.sh            # prints the bin dir on stdout
#
# Environment:
#   AI_AGENT_CACHE   cache root (default: $HOME/.cache/ai-agent)
#   K8S_VERSION      Kubernetes release to build (default: v1.37.2, matching
#                    k8s.io/api v0.37.2 in go.mod)
#   ETCD_VERSION     etcd release (default: v3.7.3)
#   HELM_VERSION     helm release, to render the chart in tests (default: v3.22.0)
#
# Idempotent: when both binaries exist it only prints where they are. A cold
# build takes several minutes on a small machine.
set -euo pipefail

CACHE="${AI_AGENT_CACHE:-$HOME/.cache/ai-agent}"
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
BIN="$CACHE/envtest/bin"
SRC="$CACHE/envtest/src"
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

log() { printf '==> %s\n' "$*" >&2; }

mkdir -p "$BIN" "$SRC"
export GOFLAGS="-mod=mod" GOWORK=off CGO_ENABLED=0

if [[ ! -x "$BIN/kube-apiserver" ]]; then
  log "building kube-apiserver $K8S_VERSION (staging modules at $STAGING_VERSION)"
  start=$(date +%s)
  dir="$SRC/kube-apiserver"
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    # Every staging repo replaced by k8s.io/kubernetes is pinned to its release.
    staging="$(awk '/^replace \(/{r=1;next} r&&/^\)/{r=0} r&&/=> \.\/staging/{print $1}' "$gomod")"
    goversion="$(sed -n 's/^go \(.*\)/\1/p' "$gomod")"
    {
      echo "module envtest/kubeapiserver"
      echo
      echo "go $goversion"
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      for m in $staging; do echo "	$m => $m $STAGING_VERSION"; done
      echo ")"
    } > go.mod
    cat > tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
    go mod download k8s.io/kubernetes
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" >/dev/null
    go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
      -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
    mv "$BIN/kube-apiserver.tmp" "$BIN/kube-apiserver"
  )
  log "kube-apiserver built in $(( $(date +%s) - start ))s"
fi

if [[ ! -x "$BIN/etcd" ]]; then
  log "building etcd $ETCD_VERSION"
  start=$(date +%s)
  dir="$SRC/etcd"
  rm -rf "$dir" && mkdir -p "$dir"
  (
    cd "$dir"
    cat > go.mod <<GOMOD
module envtest/etcd

go 1.24
GOMOD
    cat > main.go <<'GO'
// Command etcd runs etcd's own entry point, so envtest can start it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
    go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" .
    mv "$BIN/etcd.tmp" "$BIN/etcd"
  )
  log "etcd built in $(( $(date +%s) - start ))s"
fi

if [[ ! -x "$BIN/helm" ]]; then
  log "building helm $HELM_VERSION"
  start=$(date +%s)
  GOBIN="$BIN" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm built in $(( $(date +%s) - start ))s"
fi

log "envtest binaries in $BIN (export KUBEBUILDER_ASSETS=$BIN)"
echo "$BIN"
