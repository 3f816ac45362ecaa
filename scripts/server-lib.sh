# shellcheck shell=bash
# Shared by the scripts that drive a release `jeton serve` on loopback (attack.sh, soak.sh):
# source it, then call the functions below. Everything stays on 127.0.0.1.
#
#   jeton_prepare            installs wrk if missing, builds the release server; sets $bin,
#                            a temporary $dir (removed on exit, with the server stopped), $port,
#                            $base, and writes the start of $dir/jeton.toml (opaque tokens)
#   jeton_client ID          appends a client with a fresh generated secret; prints the secret
#   jeton_start              starts the server on $dir/jeton.toml; sets $server_pid
#   jeton_count_lua          prints wrk Lua that counts statuses across threads and prints
#                            `statuses: 200=N 401=N ...` when done
#
# and the small pieces every load script (load.sh, store-bench.sh too) uses:
#
#   jeton_need_wrk           installs wrk from Debian's packages if it is missing
#   jeton_free_port          prints a free TCP port on 127.0.0.1
#   jeton_cpu_ticks PID      prints the process's CPU time so far (utime+stime from
#                            /proc/PID/stat, in clock ticks: `getconf CLK_TCK` a second)
#   jeton_cpu_split PID      the same as two numbers: user ticks, then kernel ticks

jeton_need_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
  fi
}

jeton_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

jeton_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
jeton_cpu_split() { awk '{print $14, $15}' "/proc/$1/stat"; }

jeton_prepare() {
  jeton_need_wrk
  cargo build --release -q -p jeton-server
  bin="${CARGO_TARGET_DIR:-target}/release/jeton"
  dir=$(mktemp -d)
  server_pid=""
  trap jeton_cleanup EXIT
  port=$(jeton_free_port)
  base="http://127.0.0.1:$port"
  cat > "$dir/jeton.toml" <<TOML
issuer = "$base"
listen = "127.0.0.1:$port"
token_format = "opaque"
default_audience = ["https://api.example.com"]
[server]
max_connections = 4096
TOML
}

jeton_cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}

jeton_client() {
  "$bin" client new --id "$1" --scope read >> "$dir/jeton.toml" 2> "$dir/secret-$1.txt"
  local secret
  secret=$(grep -o 'jcs_[A-Za-z0-9_-]*' "$dir/secret-$1.txt" | head -n1)
  [ -n "$secret" ] || { echo "no secret printed for $1" >&2; return 1; }
  printf '%s' "$secret"
}

jeton_start() {
  RUST_LOG=error "$bin" serve --config "$dir/jeton.toml" > "$dir/out.txt" 2> "$dir/err.txt" &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q "listening" "$dir/out.txt" && break; sleep 0.1; done
  grep -q "listening" "$dir/out.txt" || { cat "$dir/err.txt" >&2; return 1; }
}

jeton_count_lua() {
  # Each wrk thread has its own Lua state: counts are gathered from every thread at the end.
  cat <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  local line = "statuses:"
  for status, n in pairs(total) do line = line .. " " .. status .. "=" .. n end
  io.write(line .. "\n")
end
LUA
}
