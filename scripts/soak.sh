#!/usr/bin/env bash
# Soak benchmark of the `jeton` server's memory, on loopback only, bounded in time (issue 9).
#
#   scripts/soak.sh [SECONDS] [CONNECTIONS] [CLIENTS]   defaults: 600 s (10 minutes), 16
#                                                       connections, 32 clients
#
# Issues opaque tokens with 60 s lifetimes at full speed (wrk, CLIENTS generated-secret clients
# taken at random, enough that the per-client cap on live tokens does not dominate) against the release server on 127.0.0.1 for SECONDS, and every 10 s prints
# the server's resident memory and the status of one token request sent beside the load. With
# 60 s lifetimes the live set stops growing after the first minute, so RSS must be flat from
# then on. Two things keep it so: the memory token store drops expired records as new ones
# arrive, and it refuses tokens past its caps (1 000 000 live, 100 000 per client: a refusal
# shows here as a 503 `temporarily_unavailable`), and the server's periodic purge task sweeps
# expired records out whatever arrives.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
conns="${2:-16}"
clients="${3:-32}"

. scripts/server-lib.sh
jeton_prepare
sed -i 's/^token_format = "opaque"$/token_format = "opaque"\ntoken_lifetime = "60s"/' "$dir/jeton.toml"
headers=()
for i in $(seq 1 "$clients"); do
  secret=$(jeton_client "soak-$i")
  headers+=("\"Basic $(printf '%s:%s' "soak-$i" "$secret" | base64 -w0)\"")
done
jeton_start
probe_auth="soak-1:$(grep -o 'jcs_[A-Za-z0-9_-]*' "$dir/secret-soak-1.txt" | head -n1)"
curl -sf -u "$probe_auth" -d grant_type=client_credentials -d scope=read "$base/token" | grep -q '"expires_in":60'

cat > "$dir/soak.lua" <<LUA
local auths = { $(IFS=,; echo "${headers[*]}") }
$(jeton_count_lua)
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
function request()
  wrk.headers["Authorization"] = auths[math.random(#auths)]
  return wrk.format()
end
LUA

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
echo "jeton soak: ${seconds}s of token requests, 60 s lifetimes, $conns connections, $clients clients, $(nproc) cores shared by wrk and the server"
printf '%8s %10s %12s\n' elapsed "RSS MiB" "probe status"
printf '%8s %10.1f %12s\n' 0s "$(awk -v k="$(rss_kib)" 'BEGIN {print k / 1024}')" -
wrk -t2 -c"$conns" -d"${seconds}s" --timeout 10s -s "$dir/soak.lua" "$base/token" > "$dir/wrk.txt" 2>&1 &
wrk_pid=$!
elapsed=0
while [ "$elapsed" -lt "$seconds" ] && kill -0 "$wrk_pid" 2>/dev/null; do
  sleep 10
  elapsed=$((elapsed + 10))
  status=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -u "$probe_auth" \
    -d grant_type=client_credentials -d scope=read "$base/token" || true)
  printf '%8s %10.1f %12s\n' "${elapsed}s" "$(awk -v k="$(rss_kib)" 'BEGIN {print k / 1024}')" "$status"
done
wait "$wrk_pid"
echo "load: $(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt") req/s; $(grep '^statuses:' "$dir/wrk.txt")"
