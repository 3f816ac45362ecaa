#!/usr/bin/env bash
# Attack benchmark of the `jeton` server, on loopback only, bounded in time (issue 9).
#
#   scripts/attack.sh [SECONDS] [FLOOD_CONNECTIONS]      defaults: 20 s, 48 connections
#
# Starts the release server on 127.0.0.1 with two clients side by side:
#   - `pbkdf2-client`: a human-chosen secret hashed by `jeton secret hash` (PBKDF2, 600 000
#     iterations), which also makes the server's decoy for unknown ids a PBKDF2 one;
#   - `legit`: a generated `jcs_` secret (HMAC-SHA256), the well-behaved client.
# Then, for SECONDS, while FLOOD_CONNECTIONS wrk connections send token requests with random
# unknown client ids (client_secret_post, all from one address), it measures back to back:
#   - GET /healthz                   latency p50 / p99
#   - POST /token as `legit`         latency p50 / p99 and how many succeeded
# and reports how the flood was answered (counts by status: 401 unauthenticated, 429 limited,
# 503 verification pool full). Afterwards it sends 40 wrong secrets for `pbkdf2-client` from one
# address and counts how many were refused before verification (429).
# Sources: the server runs behind_proxy with 127.0.0.1 as its trusted proxy, so each request
# names its source in X-Forwarded-For: the flood comes from 198.51.100.66 (the attacker), the
# legitimate client from 203.0.113.10 (with SAME_SOURCE=1, from the attacker's address too: then
# the per-source budget refuses it along with the attacker, which is the limiter's design).
# Goal (issue 9): /healthz p99 < 50 ms and legit token p99 < 100 ms on 2 cores during the flood.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
flood_conns="${2:-48}"

. scripts/server-lib.sh
jeton_prepare
secret=$(jeton_client legit)
human_secret="correct-horse-battery-staple"
verifier=$(printf '%s' "$human_secret" | "$bin" secret hash 2>/dev/null | grep -o '\$pbkdf2[^"]*' | head -n1)
[ -n "$verifier" ] || { echo "no PBKDF2 verifier" >&2; exit 1; }
cat >> "$dir/jeton.toml" <<TOML

[[clients]]
id = "pbkdf2-client"
secrets = ["$verifier"]
scopes = ["read"]
auth_methods = ["client_secret_basic", "client_secret_post"]

[transport]
mode = "behind_proxy"
trusted_proxies = ["127.0.0.1"]
TOML
attacker="198.51.100.66"
legit_source="203.0.113.10"
[ "${SAME_SOURCE:-0}" = 1 ] && legit_source="$attacker"
fwd=(-H "X-Forwarded-Proto: https" -H "X-Forwarded-For: 192.0.2.1")

jeton_start
curl -sf "${fwd[@]}" -u "legit:$secret" -d grant_type=client_credentials -d scope=read "$base/token" | grep -q access_token
curl -sf "${fwd[@]}" -u "pbkdf2-client:$human_secret" -d grant_type=client_credentials -d scope=read "$base/token" | grep -q access_token

jeton_count_lua > "$dir/count.lua"
cat > "$dir/flood.lua" <<LUA
$(cat "$dir/count.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["X-Forwarded-For"] = "$attacker"
function request()
  local id = string.format("attacker-%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  return wrk.format(nil, nil, nil,
    "grant_type=client_credentials&client_id=" .. id .. "&client_secret=guess-" .. math.random(1, 1e9))
end
LUA
auth=$(printf '%s:%s' legit "$secret" | base64 -w0)
cat > "$dir/legit.lua" <<LUA
$(cat "$dir/count.lua")
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $auth"
wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["X-Forwarded-For"] = "$legit_source"
LUA

# Latency under no load first, for the "beside" figure.
quiet=$(wrk -t1 -c1 -d3s --latency "$base/healthz" 2>&1)

wrk -t2 -c"$flood_conns" -d"${seconds}s" --timeout 30s -s "$dir/flood.lua" "$base/token" > "$dir/flood.txt" 2>&1 &
flood_pid=$!
sleep 1
probe=$((seconds - 2))
wrk -t1 -c1 -d"${probe}s" --timeout 30s --latency -s "$dir/count.lua" "$base/healthz" > "$dir/health.txt" 2>&1 &
health_pid=$!
wrk -t1 -c1 -d"${probe}s" --timeout 30s --latency -s "$dir/legit.lua" "$base/token" > "$dir/legit.txt" 2>&1
wait "$health_pid" "$flood_pid"

wrong=""
for i in $(seq 1 40); do
  wrong+="$(curl -s -o /dev/null -w '%{http_code}' "${fwd[@]/192.0.2.1/192.0.2.2}" -u "pbkdf2-client:wrong-guess-$i" \
    -d grant_type=client_credentials "$base/token") "
done

pctv() { awk -v p="$2%" '$1 == p { print $2 }' <<<"$1" | head -n1; }
pf() { awk -v p="$2%" '$1 == p { print $2 }' "$1" | head -n1; }
statuses() { grep '^statuses:' "$1" | sed 's/statuses: *//'; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

echo "jeton attack benchmark: ${seconds}s flood, $flood_conns connections of random unknown ids from $attacker (legit client from $legit_source), $(nproc) cores shared by wrk and the server"
printf '%-34s %10s %10s  %s\n' "" p50 p99 "answers"
printf '%-34s %10s %10s\n' "GET /healthz, no flood" "$(pctv "$quiet" 50)" "$(pctv "$quiet" 99)"
printf '%-34s %10s %10s  %s\n' "GET /healthz, during flood" "$(pf "$dir/health.txt" 50)" "$(pf "$dir/health.txt" 99)" "$(statuses "$dir/health.txt")"
printf '%-34s %10s %10s  %s\n' "POST /token legit, during flood" "$(pf "$dir/legit.txt" 50)" "$(pf "$dir/legit.txt" 99)" "$(statuses "$dir/legit.txt")"
printf '%-34s %10s %10s  %s\n' "POST /token flood" "" "" "$(statuses "$dir/flood.txt"), $(rps "$dir/flood.txt") req/s"
echo "40 wrong secrets for pbkdf2-client from one address, after the flood: $(tr ' ' '\n' <<<"$wrong" | grep . | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
