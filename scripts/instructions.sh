#!/usr/bin/env bash
# What a request costs each target in user-space instructions, counted by callgrind: the
# deterministic companion of scripts/load.sh.
#
#   scripts/instructions.sh [REQUESTS] [TARGET...]
#
# Starts the same targets as load.sh (same configurations, same requests; default: all but the
# one-connection ones, which are the same servers) under `valgrind --tool=callgrind`, sends each
# 200 requests to warm it up, zeroes its counters (`callgrind_control -z`), sends REQUESTS more
# (default 2000) one after another on one keep-alive connection, dumps the counters and divides
# by REQUESTS. Every answer must be a 2xx, or the script fails.
#
# Why: load.sh's CPU time per request is what the goals are stated in, but on a shared 2-core
# machine a round's ratio moves by 10-30% with the neighbours. Instruction counts barely move
# (two runs agree within about 0.3% for jeton's servers, 2% for the far smaller ceiling), so a
# change of 1% in jeton's own code shows here when it cannot show there. They count user space
# only: the kernel's TCP path, most of a token request's CPU time, is the same for every target
# and is not in them. Nor are they time: the SHA-256 and P-256 code is valgrind's (no SHA or
# ADX extensions), so crypto counts higher here than it costs on the CPU.
#
# Installs valgrind from Debian's packages if it is missing. Takes a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-2000}"
shift $(($# < 1 ? $# : 1))
all=(ceiling minimal opaque opaque-log opaque-json jwt introspect introspect-jwt hyper axum actix)
targets=("${@:-${all[@]}}")

if ! command -v callgrind_control >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq valgrind) >/dev/null
fi
# Dumps go to $cgdir/cg.PID.N, one file per `callgrind_control -d`, inside the directory
# load-targets.sh removes on exit.
dir=$(mktemp -d)
cgdir="$dir/callgrind"
mkdir "$cgdir"
launch=(valgrind --tool=callgrind "--callgrind-out-file=$cgdir/cg.%p")
start_tries=600
# shellcheck source=load-targets.sh
source scripts/load-targets.sh

# send TARGET N: N requests on one keep-alive connection; fails on anything but a 2xx.
send() {
  python3 - "${url[$1]}" "${auth[$1]}" "${body[$1]}" "$2" <<'PY'
import http.client, sys, urllib.parse
url, auth, body, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
h = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic " + auth}
for _ in range(n):
    c.request("POST", u.path, body, h)
    r = c.getresponse()
    r.read()
    if not 200 <= r.status < 300:
        sys.exit(f"{url}: status {r.status}")
PY
}

dumps() { find "$cgdir" -name "cg.$1.*" | wc -l; }
declare -A count
for t in "${targets[@]}"; do
  pid=${pidof[$t]}
  send "$t" 200
  callgrind_control -z "$pid" > /dev/null 2>&1
  send "$t" "$requests"
  n=$(($(dumps "$pid") + 1))
  callgrind_control -d "$pid" > /dev/null 2>&1
  # `totals:` is the dump's last line: once it is there, the file is complete.
  total=""
  for _ in $(seq 1 100); do
    if grep -q '^totals:' "$cgdir/cg.$pid.$n" 2>/dev/null; then
      total=$(awk '/^summary:/ {print $2}' "$cgdir/cg.$pid.$n"); break
    fi
    sleep 0.1
  done
  [ -n "$total" ] || { echo "$t: no callgrind dump" >&2; exit 1; }
  count[$t]=$((total / requests))
  echo "$t: ${count[$t]}" >&2
done

echo "user-space instructions per request (callgrind, $requests requests on one connection after 200 to warm up)"
echo "| target | instructions | × ceiling | goal's base |"
echo "|---|---:|---:|---|"
for t in "${targets[@]}"; do
  base=""; x=""
  [ -n "${count[ceiling]:-}" ] && x=$(awk -v a="${count[$t]}" -v b="${count[ceiling]}" 'BEGIN{printf "%.2f", a/b}')
  case "$t" in
    hyper|axum|actix)
      [ -n "${count[opaque]:-}" ] &&
        base=$(awk -v a="${count[$t]}" -v b="${count[opaque]}" 'BEGIN{printf "%.3f × jeton serve (opaque)", a/b}') ;;
  esac
  printf '| %s | %s | %s | %s |\n' "$t" "${count[$t]}" "$x" "$base"
done
