#!/usr/bin/env bash
# Runs the official MCP conformance suite (client auth scenarios) against
# cmd/mcp-conformance-client, which is built on internal/oauth.
#
#   .ci/conformance.sh            # all auth scenarios
#
# Environment:
#   CONFORMANCE_CACHE  where Node 22 and the suite are installed
#                      (default: $HOME/.cache/ai-agent-conformance)
#   CONFORMANCE_OUT    results directory (default: a new dir under the cache)
#
# Fails (exit 1) if any scenario fails or any check is a WARNING; prints a
# summary line with scenarios passed, checks passed and warnings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CONFORMANCE_CACHE:-$HOME/.cache/ai-agent-conformance}"
SUITE_VERSION="0.2.0-alpha.12"
NODE_VERSION="22"
OUT="${CONFORMANCE_OUT:-$CACHE/results/$(date -u +%Y%m%dT%H%M%SZ)}"

BACKCOMPAT_SCENARIOS=(
  auth/2025-03-26-oauth-metadata-backcompat
  auth/2025-03-26-oauth-endpoint-fallback
)
# Required for 2026-07-28; run on the stateful wire with --force.
SCENARIOS_2026=(
  auth/resource-mismatch
  auth/offline-access-scope
  auth/offline-access-not-supported
  auth/authorization-server-migration
  auth/iss-supported
  auth/iss-not-advertised
  auth/iss-supported-missing
  auth/iss-wrong-issuer
  auth/iss-unexpected
  auth/iss-normalized
  auth/metadata-issuer-mismatch
)

log() { printf '==> %s\n' "$*" >&2; }

# --- Node 22 and the suite, from the npm registry, into the cache ----------
mkdir -p "$CACHE"
installed_suite=""
if [[ -f "$CACHE/node_modules/@modelcontextprotocol/conformance/package.json" ]]; then
  installed_suite="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
    "$CACHE/node_modules/@modelcontextprotocol/conformance/package.json" | head -n1)"
fi
installed_node=""
if [[ -x "$CACHE/node_modules/.bin/node" ]]; then
  installed_node="$("$CACHE/node_modules/.bin/node" --version 2>/dev/null || true)"
fi
if [[ "$installed_suite" != "$SUITE_VERSION" || "$installed_node" != v${NODE_VERSION}.* ]]; then
  log "installing node@${NODE_VERSION} and @modelcontextprotocol/conformance@${SUITE_VERSION} into $CACHE"
  (cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error \
    "node@${NODE_VERSION}" "@modelcontextprotocol/conformance@${SUITE_VERSION}")
fi
export PATH="$CACHE/node_modules/.bin:$PATH"
node_version="$(node --version)"
[[ "$node_version" == v${NODE_VERSION}.* ]] || { echo "need Node ${NODE_VERSION}, got $node_version" >&2; exit 1; }
command -v conformance >/dev/null || { echo "conformance CLI not found in $CACHE" >&2; exit 1; }

# --- the client under test --------------------------------------------------
BIN="$CACHE/bin/mcp-conformance-client"
mkdir -p "$(dirname "$BIN")"
log "building $BIN"
(cd "$ROOT" && go build -o "$BIN" ./cmd/mcp-conformance-client)

mkdir -p "$OUT"
log "node $node_version, conformance $SUITE_VERSION, results in $OUT"

# --- runs -------------------------------------------------------------------
failed_runs=()
run() {
  local name="$1"; shift
  local logfile="$OUT/${name//\//_}.log"
  log "conformance client $*"
  if conformance client --command "$BIN" -o "$OUT" "$@" >"$logfile" 2>&1; then
    grep -E '^(Total:|Passed:)' "$logfile" >&2 || true
  else
    failed_runs+=("$name")
    tail -n 40 "$logfile" >&2
  fi
}

run suite-auth --suite auth
for s in "${BACKCOMPAT_SCENARIOS[@]}"; do
  run "$s" --scenario "$s"
done
for s in "${SCENARIOS_2026[@]}"; do
  run "$s" --scenario "$s" --spec-version 2025-11-25 --force
done

# --- summary from checks.json -----------------------------------------------
summary="$(node - "$OUT" <<'JS'
const fs = require('fs'), path = require('path');
const root = process.argv[2];
let scenarios = 0, scenariosPassed = 0, passed = 0, failed = 0, warnings = 0;
const bad = [];
for (const group of fs.readdirSync(root)) {
  const gdir = path.join(root, group);
  if (!fs.statSync(gdir).isDirectory()) continue;
  for (const run of fs.readdirSync(gdir)) {
    const f = path.join(gdir, run, 'checks.json');
    if (!fs.existsSync(f)) continue;
    const checks = JSON.parse(fs.readFileSync(f, 'utf8'));
    const s = checks.filter(c => c.status === 'SUCCESS').length;
    const x = checks.filter(c => c.status === 'FAILURE').length;
    const w = checks.filter(c => c.status === 'WARNING').length;
    scenarios++; passed += s; failed += x; warnings += w;
    if (x === 0 && w === 0) scenariosPassed++;
    else bad.push(`${group}/${run}: ${x} failed, ${w} warnings ` +
      checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING').map(c => c.id).join(','));
  }
}
for (const b of bad) console.error('  ' + b);
console.log(`${scenariosPassed} ${scenarios} ${passed} ${failed} ${warnings}`);
JS
)"
read -r sp sn cp cf cw <<<"$summary"
echo "SUMMARY: scenarios passed ${sp}/${sn}, checks passed ${cp}, checks failed ${cf}, warnings ${cw} (conformance ${SUITE_VERSION}, results: $OUT)"

expected=$((14 + ${#BACKCOMPAT_SCENARIOS[@]} + ${#SCENARIOS_2026[@]}))
if (( ${#failed_runs[@]} > 0 )); then
  echo "FAILED runs: ${failed_runs[*]}" >&2; exit 1
fi
if (( sp != sn || cf != 0 || cw != 0 || sn < expected )); then
  echo "FAILED: every scenario must pass with no warnings (expected at least $expected scenarios)" >&2; exit 1
fi
echo "conformance: OK"
