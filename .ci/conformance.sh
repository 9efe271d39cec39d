#!/usr/bin/env bash
# Runs the official MCP conformance suite against cmd/mcp-conformance-client
# (the agent's internal/mcp, internal/oauthproto and internal/oauth code): every client scenario
# the suite lists, each at the newest spec version it lists, extensions at
# 2026-07-28 with --force.
#
#   .ci/conformance.sh            # all client scenarios
#
# Environment:
#   CONFORMANCE_CACHE  where Node 22 and the suite are installed
#                      (default: $HOME/.cache/ai-agent-conformance)
#   CONFORMANCE_OUT    results directory (default: a new dir under the cache)
#
# Fails (exit 1) unless all EXPECTED_CLEAN scenarios ran and every one is
# clean (no failed check, no WARNING); prints a summary line with scenarios
# passed, checks passed and warnings.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CONFORMANCE_CACHE:-$HOME/.cache/ai-agent-conformance}"
SUITE_VERSION="0.2.0-alpha.12"
NODE_VERSION="22"
OUT="${CONFORMANCE_OUT:-$CACHE/results/$(date -u +%Y%m%dT%H%M%SZ)}"

# The suite's client scenarios (conformance list): 48 in 0.2.0-alpha.12, of
# which the 27 core auth scenarios.
EXPECTED_CLEAN=48
EXPECTED_AUTH_CORE=27
EXTENSION_VERSION="2026-07-28"

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
  log "conformance client --scenario $name $*"
  if ! conformance client --command "$BIN" -o "$OUT" --scenario "$name" "$@" >"$logfile" 2>&1; then
    failed_runs+=("$name")
    tail -n 40 "$logfile" >&2
  fi
}

# "  - name [v1,v2,...]" lines of the client section; the newest listed
# version is the last one ("extension" for extensions).
scenarios="$(conformance list | sed -n '/^Client scenarios/,/^Authorization server/p' | sed -n 's/^  - //p')"
total=0 auth_core=0
while read -r name versions; do
  [[ -n "$name" ]] || continue
  total=$((total + 1))
  newest="$(tr -d '[]' <<<"$versions" | tr ',' '\n' | tail -n1)"
  if [[ "$newest" == extension ]]; then
    run "$name" --spec-version "$EXTENSION_VERSION" --force
  else
    [[ "$name" == auth/* ]] && auth_core=$((auth_core + 1))
    run "$name" --spec-version "$newest"
  fi
done <<<"$scenarios"
log "ran $total client scenarios ($auth_core core auth)"

# --- summary from checks.json -----------------------------------------------
summary="$(node - "$OUT" <<'JS'
const fs = require('fs'), path = require('path');
const root = process.argv[2];
let scenarios = 0, scenariosPassed = 0, passed = 0, failed = 0, warnings = 0;
const bad = [];
// Auth scenarios write <out>/auth/<run>/checks.json, the others <out>/<run>/.
const walk = (dir, rel) => {
  for (const e of fs.readdirSync(dir)) {
    const p = path.join(dir, e);
    if (!fs.statSync(p).isDirectory()) continue;
    const f = path.join(p, 'checks.json');
    if (!fs.existsSync(f)) { walk(p, rel + e + '/'); continue; }
    const checks = JSON.parse(fs.readFileSync(f, 'utf8'));
    const s = checks.filter(c => c.status === 'SUCCESS').length;
    const x = checks.filter(c => c.status === 'FAILURE').length;
    const w = checks.filter(c => c.status === 'WARNING').length;
    scenarios++; passed += s; failed += x; warnings += w;
    if (x === 0 && w === 0) scenariosPassed++;
    else bad.push(`${rel}${e}: ${x} failed, ${w} warnings ` +
      checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING').map(c => c.id).join(','));
  }
};
walk(root, '');
for (const b of bad) console.error('  ' + b);
console.log(`${scenariosPassed} ${scenarios} ${passed} ${failed} ${warnings}`);
JS
)"
read -r sp sn cp cf cw <<<"$summary"
echo "SUMMARY: scenarios passed ${sp}/${sn}, checks passed ${cp}, checks failed ${cf}, warnings ${cw} (conformance ${SUITE_VERSION}, results: $OUT)"

if (( ${#failed_runs[@]} > 0 )); then
  echo "FAILED runs: ${failed_runs[*]}" >&2; exit 1
fi
if (( total < EXPECTED_CLEAN || auth_core < EXPECTED_AUTH_CORE || sn < EXPECTED_CLEAN )); then
  echo "FAILED: expected $EXPECTED_CLEAN client scenarios ($EXPECTED_AUTH_CORE core auth), ran $total ($auth_core), results for $sn" >&2; exit 1
fi
if (( sp < EXPECTED_CLEAN || cf != 0 || cw != 0 )); then
  echo "FAILED: every scenario must pass with no warnings ($sp of $EXPECTED_CLEAN clean)" >&2; exit 1
fi
echo "conformance: OK"
