#!/usr/bin/env bash
# Public verification beside a minimal axum endpoint, same machine, same run (wrk on
# loopback). Usage: scripts/bench_verify.sh [DURATION_S] [CONNECTIONS]
# Needs: wrk (apt-get install wrk), a release build (cargo build --release -p xcert
# -p xcert-web --examples).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"
CONN="${2:-64}"
BIN=target/release/xcert
PEER=target/release/examples/minimal_axum
DIR="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT

"$BIN" demo --no-serve --data-dir "$DIR" >/dev/null 2>&1
NUMBER="$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"SELECT number FROM issued_certificates WHERE state='active' ORDER BY id LIMIT 1\").fetchone()[0])" "$DIR/xcert.db")"
RUST_LOG=warn "$BIN" serve --data-dir "$DIR" --port 18080 >/dev/null 2>&1 &
"$PEER" 127.0.0.1:18081 &
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:18080/healthz" >/dev/null && curl -sf "http://127.0.0.1:18081/verify/x" >/dev/null && break; sleep 0.2; done

run() { # name url
  local out
  out="$(wrk -t2 -c"$CONN" -d"${DUR}s" --latency "$2")"
  local rps p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  printf '| %s | %s | %s |\n' "$1" "$rps" "$p99"
  echo "$rps" > "$DIR/$1.rps"
}
echo "certificate $NUMBER; wrk -t2 -c$CONN -d${DUR}s; $(nproc) cores"
echo "| endpoint | requests/s | p99 |"
echo "| --- | ---: | ---: |"
run minimal-axum "http://127.0.0.1:18081/verify/$NUMBER"
run verify-api "http://127.0.0.1:18080/api/v1/public/certificates/$NUMBER"
run verify-page "http://127.0.0.1:18080/verify/$NUMBER"
python3 - "$DIR" <<'PY'
import sys, pathlib
d = pathlib.Path(sys.argv[1])
peer = float((d / "minimal-axum.rps").read_text())
for n in ["verify-api", "verify-page"]:
    print(f"{n}: {float((d / (n + '.rps')).read_text()) / peer:.2f} of the minimal endpoint")
PY
