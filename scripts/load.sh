#!/usr/bin/env bash
# Load test of the `jeton` server with wrk, on loopback only, bounded in time.
#
#   scripts/load.sh [opaque|jwt] [SECONDS] [CONNECTIONS]
#
# Builds the release server, writes a throwaway config with one client (a fresh secret, its
# verifier only), starts it on 127.0.0.1, and measures in one run:
#   - GET /healthz        the HTTP stack alone (hyper + routing + logging), the ceiling
#   - POST /token         a full client-credentials request (Basic, verify, policy, issue)
# and prints requests/s for both and their ratio. The two share the machine, so compare the
# ratio, not absolute figures. Installs wrk from Debian's packages if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
format="${1:-opaque}"
seconds="${2:-10}"
conns="${3:-32}"

if ! command -v wrk >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
cargo build --release -q -p jeton-server
bin=target/release/jeton

dir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$dir/jeton.toml" <<TOML
issuer = "http://127.0.0.1:$port"
listen = "127.0.0.1:$port"
token_format = "$format"
default_audience = ["https://api.example.com"]
[server]
max_connections = 4096
TOML
if [ "$format" = jwt ]; then
  "$bin" key new --alg ES256 --out "$dir/signing.pem" >/dev/null
  printf '[signing]\n[[signing.keys]]\npath = "%s"\n' "$dir/signing.pem" >> "$dir/jeton.toml"
fi
"$bin" client new --id load-client --scope read >> "$dir/jeton.toml" 2> "$dir/secret.txt"
secret=$(grep -o 'jcs_[A-Za-z0-9_-]*' "$dir/secret.txt" | head -n1)
[ -n "$secret" ] || { echo "no secret printed" >&2; exit 1; }

RUST_LOG=warn "$bin" serve --config "$dir/jeton.toml" > "$dir/out.txt" 2> "$dir/err.txt" &
server_pid=$!
for _ in $(seq 1 100); do grep -q "listening" "$dir/out.txt" && break; sleep 0.1; done
grep -q "listening" "$dir/out.txt" || { cat "$dir/err.txt" >&2; exit 1; }

auth=$(printf '%s:%s' load-client "$secret" | base64 -w0)
cat > "$dir/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $auth"
done = function(summary, latency, requests)
  local bad = summary.errors.status
  if bad > 0 then io.stderr:write("non-2xx responses: " .. bad .. "\n") end
end
LUA

# One request by hand first: it must be a 200 with a token.
curl -sf -u "load-client:$secret" -d grant_type=client_credentials -d scope=read \
  "http://127.0.0.1:$port/token" | grep -q access_token

run() { wrk -t2 -c"$conns" -d"${seconds}s" --latency "$@" 2>&1; }
health=$(run "http://127.0.0.1:$port/healthz")
token=$(run -s "$dir/token.lua" "http://127.0.0.1:$port/token")
rps() { awk '/Requests\/sec/ {print $2}' <<<"$1"; }
p99() { awk '/ 99%/ {print $2}' <<<"$1"; }
h=$(rps "$health"); t=$(rps "$token")
echo "format=$format connections=$conns duration=${seconds}s (wrk and server share $(nproc) cores)"
echo "GET  /healthz : $h req/s, p99 $(p99 "$health")"
echo "POST /token   : $t req/s, p99 $(p99 "$token")"
awk -v t="$t" -v h="$h" 'BEGIN { printf "token/healthz ratio: %.2f\n", t / h }'
grep -q "non-2xx" <<<"$token" && { echo "token requests failed" >&2; exit 1; } || true
