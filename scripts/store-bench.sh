#!/usr/bin/env bash
# The server's opaque issuance and introspection on each store, in one run, with wrk on loopback.
#
#   scripts/store-bench.sh [SECONDS] [CONNECTIONS]
#
# For each of memory, SQLite (a temporary file) and PostgreSQL it starts the release `jeton`
# server with opaque tokens and one client from the file, then measures:
#   - POST /token       client credentials (Basic, HMAC verify, client lookup, token insert)
#   - POST /introspect  one token (Basic, client lookup, token lookup by digest)
# and prints requests/s and the server's CPU per request: utime+stime of the server process
# (from /proc/PID/stat) over the wrk run, divided by the requests wrk completed. wrk and the
# server (and the database) share the machine's cores.
#
# PostgreSQL: DATABASE_URL if set, else a throwaway cluster from scripts/ci-postgres.sh (on
# 127.0.0.1, fsync and synchronous_commit off: the figures are the server's cost, not a disk's).
# SQLite runs as the server configures it: WAL, synchronous = FULL.
# Installs wrk from Debian's packages if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
conns="${2:-16}"

# shellcheck source=server-lib.sh
source scripts/server-lib.sh
jeton_need_wrk
if [ -z "${DATABASE_URL:-}" ]; then
  # shellcheck source=ci-postgres.sh
  source scripts/ci-postgres.sh
fi
cargo build --release -q -p jeton-server
bin="${CARGO_TARGET_DIR:-target}/release/jeton"

dir=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
cleanup() { stop_server; rm -rf "$dir"; if declare -F jeton_pg_stop >/dev/null; then jeton_pg_stop; fi; }
trap cleanup EXIT

"$bin" client new --id bench --scope read --may-introspect > "$dir/client.toml" 2> "$dir/secret.txt"
secret=$(grep -o 'jcs_[A-Za-z0-9_-]*' "$dir/secret.txt" | head -n1)
auth=$(printf '%s:%s' bench "$secret" | base64 -w0)
clk=$(getconf CLK_TCK)

wrk_run() { wrk -t2 -c"$conns" -d"${seconds}s" -s "$1" "$2" 2>&1; }
rps() { awk '/Requests\/sec/ {printf "%d", $2}' <<<"$1"; }
requests() { awk '/requests in/ {print $1}' <<<"$1"; }

lua() { # $1 file, $2 body
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = "$2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $auth"
done = function(summary, latency, requests)
  if summary.errors.status > 0 then io.stderr:write("non-2xx responses: " .. summary.errors.status .. "\n") end
end
LUA
}

# One measured run: prints "req/s cpu_us_per_request".
measure() { # $1 lua, $2 url
  local before after out n
  before=$(jeton_cpu_ticks "$server_pid")
  out=$(wrk_run "$1" "$2")
  after=$(jeton_cpu_ticks "$server_pid")
  if grep -q "non-2xx" <<<"$out"; then echo "requests failed: $out" >&2; exit 1; fi
  n=$(requests "$out")
  awk -v r="$(rps "$out")" -v t=$((after - before)) -v n="$n" -v c="$clk" \
    'BEGIN { printf "%d %.0f", r, t / c / n * 1e6 }'
}

results=()
for store in memory sqlite postgres; do
  case "$store" in
    memory) url="memory" ;;
    sqlite) url="sqlite://$dir/jeton.db" ;;
    postgres) url="$DATABASE_URL" ;;
  esac
  port=$(jeton_free_port)
  {
    printf 'issuer = "http://127.0.0.1:%s"\nlisten = "127.0.0.1:%s"\n' "$port" "$port"
    printf 'token_lifetime = "5m"\n[server]\nmax_connections = 4096\n[store]\nurl = "%s"\n' "$url"
    # The memory store's caps (issue 9) would refuse a run's worth of live tokens of one client.
    printf '[limits]\nmax_tokens = 10000000\nmax_tokens_per_client = 10000000\n'
    cat "$dir/client.toml"
  } > "$dir/$store.toml"
  RUST_LOG=warn "$bin" serve --config "$dir/$store.toml" > "$dir/out.txt" 2> "$dir/err.txt" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q "listening" "$dir/out.txt" && break; sleep 0.1; done
  grep -q "listening" "$dir/out.txt" || { cat "$dir/err.txt" >&2; exit 1; }
  base="http://127.0.0.1:$port"
  token=$(curl -sf -u "bench:$secret" -d grant_type=client_credentials -d scope=read "$base/token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  lua "$dir/token.lua" "grant_type=client_credentials&scope=read"
  lua "$dir/introspect.lua" "token=$token"
  read -r t_rps t_cpu <<<"$(measure "$dir/token.lua" "$base/token")"
  read -r i_rps i_cpu <<<"$(measure "$dir/introspect.lua" "$base/introspect")"
  [ -n "$t_rps" ] && [ -n "$i_rps" ] || { echo "$store: a run failed" >&2; exit 1; }
  results+=("| $store | $t_rps | $t_cpu µs | $i_rps | $i_cpu µs |")
  stop_server
done

echo "opaque tokens, wrk -t2 -c$conns, ${seconds}s per run, $(nproc) cores shared by wrk, server and database"
echo "| store | issuance req/s | server CPU / issuance | introspection req/s | server CPU / introspection |"
echo "|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
