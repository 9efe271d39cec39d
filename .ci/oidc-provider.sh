#!/usr/bin/env bash
# Pre-installs Node 22 (npm package "node") and oidc-provider into the cache
# used by internal/oauth/oauthtest, so the first integration test does not pay
# the npm install inside its timeout.
#
#   .ci/oidc-provider.sh
#
# Environment:
#   AI_AGENT_CACHE  cache root (default: $HOME/.cache/ai-agent); the install
#                   goes to $AI_AGENT_CACHE/oidc-provider
#
# Keep OIDC_PROVIDER_VERSION / NODE_MAJOR / MCP_SDK_VERSION / EXPRESS_VERSION
# and the marker in sync with internal/oauth/oauthtest/install.go
# (OIDCProviderVersion, NodeMajor, MCPSDKVersion, ExpressVersion,
# installMarker). Takes the same lock file as the Go code.
set -euo pipefail

OIDC_PROVIDER_VERSION="9.13.3"
NODE_MAJOR="22"
# The interop matrix's TypeScript-SDK MCP server (oauthtest/sdkserver.mjs).
MCP_SDK_VERSION="1.32.2"
EXPRESS_VERSION="5.2.1"
MARKER="oidc-provider@${OIDC_PROVIDER_VERSION} node@${NODE_MAJOR} @modelcontextprotocol/sdk@${MCP_SDK_VERSION} express@${EXPRESS_VERSION}"

CACHE="${AI_AGENT_CACHE:-$HOME/.cache/ai-agent}"
DIR="$CACHE/oidc-provider"
log() { printf '==> %s\n' "$*" >&2; }

command -v npm >/dev/null || { echo "npm not found in PATH" >&2; exit 1; }
mkdir -p "$DIR"

install() {
  if [[ -f "$DIR/.installed" && "$(cat "$DIR/.installed")" == "$MARKER" ]]; then
    log "oidc-provider already installed in $DIR ($MARKER)"
    return 0
  fi
  rm -f "$DIR/.installed"
  [[ -f "$DIR/package.json" ]] || echo '{"name":"ai-agent-oauthtest","private":true}' >"$DIR/package.json"
  log "installing node@${NODE_MAJOR}, oidc-provider@${OIDC_PROVIDER_VERSION}, @modelcontextprotocol/sdk@${MCP_SDK_VERSION}, express@${EXPRESS_VERSION} into $DIR"
  local start=$SECONDS
  (cd "$DIR" && npm install --no-audit --no-fund --loglevel=error \
    "node@${NODE_MAJOR}" "oidc-provider@${OIDC_PROVIDER_VERSION}" \
    "@modelcontextprotocol/sdk@${MCP_SDK_VERSION}" "express@${EXPRESS_VERSION}")
  printf '%s\n' "$MARKER" >"$DIR/.installed"
  log "installed in $((SECONDS - start))s"
}

if command -v flock >/dev/null; then
  # Same lock file as oauthtest's Go code (flock(2) on $DIR.lock).
  exec 9>"$DIR.lock"
  flock 9
  install
  flock -u 9
else
  install
fi

node="$DIR/node_modules/.bin/node"
v="$("$node" --version)"
[[ "$v" == v${NODE_MAJOR}.* ]] || { echo "expected Node ${NODE_MAJOR} in $DIR, got $v" >&2; exit 1; }
(cd "$DIR" && "$node" --input-type=module -e "await import('oidc-provider')") \
  || { echo "oidc-provider does not load with $node" >&2; exit 1; }
(cd "$DIR" && "$node" --input-type=module -e "await import('@modelcontextprotocol/sdk/server/mcp.js'); await import('express')") \
  || { echo "@modelcontextprotocol/sdk or express does not load with $node" >&2; exit 1; }
log "node $v, oidc-provider ${OIDC_PROVIDER_VERSION} ready in $DIR"
