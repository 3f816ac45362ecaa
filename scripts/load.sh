#!/usr/bin/env bash
# What a token request costs in jeton, as a ratio to the bare HTTP stack, in one run.
#
#   scripts/load.sh [SECONDS] [ROUNDS] [TARGET...]
#
# Starts, on 127.0.0.1, the HTTP ceiling (examples/http-ceiling: a bare hyper server answering
# a fixed JSON body, checking nothing), the release `jeton serve` in several configurations and
# the three adapters' examples, then measures each target with `wrk -t1 -c$LOAD_CONNECTIONS`
# (default 32) for SECONDS (default 5), ROUNDS times (default 3), the targets interleaved
# within each round so that a change in the machine's load hits every target alike.
#
# For each run: requests/s, p50 and p99 latency, and the server's CPU per request (utime+stime
# of the server process from /proc/PID/stat over the run ÷ requests completed: far steadier on
# a shared machine than requests/s), split into user and kernel time (utime and stime: jeton's
# own work is user time; the kernel's TCP path is the ceiling's too, so a target whose excess is
# kernel time pays for wake-ups and interrupts, not code). The summary gives the mean of each
# over the rounds and the median of the per-round ratios to the ceiling (or, for the JWT goal,
# to ceiling + 1.25 × one ES256 signature, measured by `http-ceiling sign-cost` in the same
# round), with the goals of issue 13. Every run must answer 2xx only, or the script fails.
#
# Targets (default: all):
#   ceiling          http-ceiling, POST /token
#   minimal          http-ceiling minimal: the cheapest token endpoint one would write by hand
#                    (Basic, an HMAC secret check, the form, 256 random bits, a map insert), no
#                    goal of its own: the work no token endpoint can skip, beside the ceiling
#   opaque           jeton serve, opaque tokens, request log off (RUST_LOG=warn)
#   opaque-log       the same with the default one-line-per-request log (info, text, to a file)
#   opaque-json      the same with JSON log lines
#   jwt              jeton serve, ES256 JWTs, request log off
#   introspect       jeton serve opaque, POST /introspect of one token, log off
#   introspect-jwt   jeton serve JWT, POST /introspect of one JWT, log off
#   hyper axum actix the adapters' examples (opaque tokens, log off), on their token routes
#   ceiling-c1 opaque-c1   one connection (wrk -c1): latency
#
# wrk, the servers and this script share the machine's cores: compare ratios, not absolutes.
# Installs wrk from Debian's packages if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
rounds="${2:-3}"
shift $(($# < 2 ? $# : 2))
# The default order puts each comparison's two sides next to each other in time: jeton's
# opaque server right after the ceiling, the examples right after that server (their goal is a
# ratio to it), the one-connection target right after its ceiling. A round takes about a
# minute, and a shared machine's load drifts within it.
all=(ceiling opaque hyper axum actix minimal opaque-log opaque-json jwt introspect introspect-jwt ceiling-c1 opaque-c1)
targets=("${@:-${all[@]}}")
conns="${LOAD_CONNECTIONS:-32}"

# shellcheck source=server-lib.sh
source scripts/server-lib.sh
jeton_need_wrk
clk=$(getconf CLK_TCK)

launch=()
# shellcheck source=load-targets.sh
source scripts/load-targets.sh

# One measured run: appends "target round rps p50_us p99_us user_us kernel_us" (CPU per request).
measure() { # TARGET ROUND
  local t=$1 c=$conns lua="$dir/$1.lua" user0 sys0 user1 sys1 out
  case "$t" in *-c1) c=1 ;; esac
  cat > "$lua" <<LUA
wrk.method = "POST"
wrk.body = "${body[$t]}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic ${auth[$t]}"
done = function(summary, latency, requests)
  io.write(string.format("result %d %d %d %d\n", summary.requests,
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end
LUA
  read -r user0 sys0 <<<"$(jeton_cpu_split "${pidof[$t]}")"
  out=$(wrk -t1 -c"$c" -d"${seconds}s" -s "$lua" "${url[$t]}" 2>&1)
  read -r user1 sys1 <<<"$(jeton_cpu_split "${pidof[$t]}")"
  read -r _ n p50 p99 bad <<<"$(grep '^result' <<<"$out")"
  [ "${bad:-1}" = 0 ] || { echo "$t: non-2xx responses: $out" >&2; exit 1; }
  awk -v t="$t" -v r="$2" -v n="$n" -v s="$seconds" -v p50="$p50" -v p99="$p99" \
    -v user=$((user1 - user0)) -v sys=$((sys1 - sys0)) -v clk="$clk" \
    'BEGIN { us = 1e6 / clk / n
      printf "%s %d %.0f %d %d %.2f %.2f\n", t, r, n / s, p50, p99, user * us, sys * us }' \
    >> "$dir/results.txt"
}

for r in $(seq 1 "$rounds"); do
  echo "sign $r $("$rel/http-ceiling" sign-cost 5000)" >> "$dir/results.txt"
  for t in "${targets[@]}"; do measure "$t" "$r"; done
  echo "round $r of $rounds done" >&2
done

echo "wrk -t1 -c$conns (-c1 for *-c1), ${seconds}s × $rounds interleaved rounds; $(nproc) cores shared by wrk and the servers; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
python3 - "$dir/results.txt" <<'PY'
import sys, statistics as st
runs, sign = {}, {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "sign":
        sign[int(f[1])] = float(f[2]); continue
    t, r = f[0], int(f[1])
    user, kernel = float(f[5]), float(f[6])
    runs.setdefault(t, {})[r] = dict(rps=float(f[2]), p50=int(f[3]), p99=int(f[4]), cpu=user + kernel,
                                     user=user, kernel=kernel)
def ratios(t, base, key, add=lambda r: 0.0):
    return [runs[t][r][key] / (runs[base][r][key] + add(r)) for r in sorted(runs[t]) if base in runs and r in runs[base]]
def ratio(t, base, key, add=lambda r: 0.0):
    rs = ratios(t, base, key, add)
    return st.median(rs) if rs else None
goals = {
    "opaque": ("cpu", "ceiling", 1.25), "opaque-log": ("cpu", "ceiling", 1.5),
    "opaque-json": ("cpu", "ceiling", 1.5), "introspect": ("cpu", "ceiling", 1.25),
    "opaque-c1": ("p50", "ceiling-c1", 1.3),
}
print("| target | req/s | p50 | p99 | CPU µs/request | user + kernel | × ceiling CPU | × ceiling p99 | goal |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
ms = lambda us: f"{us / 1000:.2f} ms"
for t in runs:
    v = runs[t].values()
    mean = lambda k: st.mean(x[k] for x in v)
    base = "ceiling-c1" if t.endswith("-c1") else "ceiling"
    cpu_x = ratio(t, base, "cpu"); p99_x = ratio(t, base, "p99")
    goal = ""
    if t in goals:
        key, b, limit = goals[t]
        x = ratio(t, b, key)
        if x is not None:
            goal = f"{key} ≤ {limit}× ceiling: {x:.2f} {'met' if x <= limit else 'NOT met'}"
    if t in ("jwt", "introspect-jwt") and sign:
        x = ratio(t, "ceiling", "cpu", add=lambda r: 1.25 * sign.get(r, 0.0))
        if x is not None:
            goal = f"cpu ≤ ceiling + 1.25 × ES256 ({st.median(sign.values()):.1f} µs): {x:.2f} {'met' if x <= 1 else 'NOT met'}"
    if t in ("opaque", "opaque-log", "opaque-json", "jwt", "introspect", "introspect-jwt") and p99_x is not None:
        goal += f"{'; ' if goal else ''}p99 ≤ 1.5×: {p99_x:.2f} {'met' if p99_x <= 1.5 else 'NOT met'}"
    if t in ("hyper", "axum", "actix") and "opaque" in runs:
        x = ratio(t, "opaque", "cpu")
        goal = f"within 5% of jeton serve (opaque): {x:.2f} {'met' if x <= 1.05 else 'NOT met'}"
    fmt = lambda x: "" if x is None else f"{x:.2f}"
    split = f"{mean('user'):.1f} + {mean('kernel'):.1f}"
    print(f"| {t} | {mean('rps'):,.0f} | {ms(mean('p50'))} | {ms(mean('p99'))} | {mean('cpu'):.1f} | {split} | {fmt(cpu_x)} | {fmt(p99_x)} | {goal} |")
if "minimal" in runs and "opaque" in runs:
    x = ratio("opaque", "minimal", "cpu"); y = ratio("opaque", "minimal", "p99")
    print(f"\njeton serve (opaque) against the minimal hand-written endpoint: {x:.2f}× its CPU per request, {y:.2f}× its p99 (medians of rounds)")
if sign:
    print(f"\none ES256 signature (ring, http-ceiling sign-cost): {st.median(sign.values()):.1f} µs CPU (median of rounds)")
# How much the machine moved during the run: the ceiling does the same work every round, so
# the spread of its own CPU per request is the noise floor under every ratio above.
if "ceiling" in runs and len(runs["ceiling"]) > 1:
    c = [runs["ceiling"][r]["cpu"] for r in sorted(runs["ceiling"])]
    spread = (max(c) - min(c)) / st.median(c)
    print(f"\nthe ceiling's own CPU per request, round by round: {' '.join(f'{x:.1f}' for x in c)} µs "
          f"(spread {spread:.0%} of its median: ratio differences smaller than that are the machine's)")
# The spread behind each median: on a shared machine one round can differ from the next by more
# than a change being measured.
print("\nper-round ratios to each goal's base (CPU; p50 for one connection), round by round:")
for t in runs:
    if t.startswith("ceiling"):
        continue
    if t in ("jwt", "introspect-jwt") and sign:
        rs = ratios(t, "ceiling", "cpu", add=lambda r: 1.25 * sign.get(r, 0.0))
    elif t in ("hyper", "axum", "actix") and "opaque" in runs:
        rs = ratios(t, "opaque", "cpu")
    elif t.endswith("-c1"):
        rs = ratios(t, "ceiling-c1", "p50")
    else:
        rs = ratios(t, "ceiling", "cpu")
    if rs:
        print(f"  {t}: " + " ".join(f"{x:.2f}" for x in rs))
PY
