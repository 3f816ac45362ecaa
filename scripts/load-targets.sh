# shellcheck shell=bash disable=SC2154,SC2034
# SC2154: the sourcing script sets targets and launch, and `start` sets pid_NAME by
# printf -v. SC2034: url, auth, body and pidof are for the sourcing script.
# The targets of scripts/load.sh and scripts/instructions.sh, built (release) and started on
# 127.0.0.1: source it after setting
#
#   targets    the target names wanted (see load.sh's list)
#   launch     an array put before each server's command (empty: run it as is; instructions.sh
#              runs the servers under callgrind)
#   start_tries  tenths of a second to wait for a server to say it is listening (default 100)
#   dir        optionally, the temporary directory to use (default: a new one)
#
# It sets $rel (the release directory), $dir (removed on exit, with every server stopped),
# $secret, and for each target url[T], auth[T] (Basic credentials, base64), body[T] and pidof[T]
# (the server process), then checks that each target answers one request with a 2xx.
# It sources scripts/server-lib.sh (jeton_free_port).

# shellcheck source=server-lib.sh
source scripts/server-lib.sh
cargo build --release -q -p jeton-server -p http-ceiling -p example-hyper-server \
  -p example-axum-app -p example-actix-app
rel="${CARGO_TARGET_DIR:-target}/release"
dir="${dir:-$(mktemp -d)}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

wants() { local t; for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
wants_any() { local t; for t in "$@"; do wants "$t" && return 0; done; return 1; }

# start NAME LOGVAR CMD...: runs CMD (stdout to $dir/NAME.out, stderr to $dir/NAME.log), waits
# for "listening" or a secret line, and records its pid in pid_NAME.
start() {
  local name=$1 log=$2
  shift 2
  RUST_LOG="$log" "${launch[@]}" "$@" > "$dir/$name.out" 2> "$dir/$name.log" &
  local pid=$!
  pids+=("$pid")
  printf -v "pid_${name//-/_}" '%s' "$pid"
  for _ in $(seq 1 "${start_tries:-100}"); do grep -qiE "listening|client secret" "$dir/$name.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$dir/$name.log" >&2; exit 1
}

# The server configurations: one client, its secret's verifier only; memory store caps raised
# so that a run's worth of live tokens fits.
"$rel/jeton" client new --id load --scope read --may-introspect > "$dir/client.toml" 2> "$dir/secret.txt"
secret=$(grep -o 'jcs_[A-Za-z0-9_-]*' "$dir/secret.txt" | head -n1)
[ -n "$secret" ] || { echo "no secret printed" >&2; exit 1; }
"$rel/jeton" key new --alg ES256 --out "$dir/signing.pem" > /dev/null
config() { # NAME FORMAT PORT
  {
    printf 'issuer = "http://127.0.0.1:%s"\nlisten = "127.0.0.1:%s"\ntoken_format = "%s"\n' "$3" "$3" "$2"
    printf 'default_audience = ["https://api.example.com"]\ntoken_lifetime = "10m"\n'
    printf '[server]\nmax_connections = 4096\n'
    printf '[limits]\nmax_tokens = 10000000\nmax_tokens_per_client = 10000000\n'
    if [ "$2" = jwt ]; then printf '[signing]\n[[signing.keys]]\npath = "%s"\n' "$dir/signing.pem"; fi
    cat "$dir/client.toml"
  } > "$dir/$1.toml"
}
declare -A url auth body pidof
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
serve_target() { # NAME FORMAT LOG [ARGS...]
  local name=$1 format=$2 log=$3 port
  shift 3
  port=$(jeton_free_port)
  config "$name" "$format" "$port"
  start "$name" "$log" "$rel/jeton" serve --config "$dir/$name.toml" "$@"
  url[$name]="http://127.0.0.1:$port/token"
  auth[$name]=$(basic load "$secret")
  body[$name]="grant_type=client_credentials&scope=read"
}
example_secret() { sed -n 's/.*client secret: *\([^ ]*\).*/\1/p' "$dir/$1.out" | head -n1; }
issue_one() { # URL AUTH BODY -> access token
  curl -sf -H "Authorization: Basic $2" -d "$3" "$1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

if wants_any ceiling ceiling-c1; then
  port=$(jeton_free_port)
  start ceiling warn "$rel/http-ceiling" serve "127.0.0.1:$port"
  for t in ceiling ceiling-c1; do
    url[$t]="http://127.0.0.1:$port/token"; auth[$t]=$(basic load "$secret")
    body[$t]="grant_type=client_credentials&scope=read"; pidof[$t]=$pid_ceiling
  done
fi
if wants minimal; then
  port=$(jeton_free_port)
  CEILING_CLIENT_SECRET="$secret" start minimal warn "$rel/http-ceiling" minimal "127.0.0.1:$port" load
  url[minimal]="http://127.0.0.1:$port/token"; auth[minimal]=$(basic load "$secret")
  body[minimal]="grant_type=client_credentials&scope=read"; pidof[minimal]=$pid_minimal
fi
if wants_any opaque introspect opaque-c1; then
  serve_target opaque opaque warn
  for t in opaque introspect opaque-c1; do pidof[$t]=$pid_opaque; done
  url[opaque-c1]=${url[opaque]}; auth[opaque-c1]=${auth[opaque]}; body[opaque-c1]=${body[opaque]}
  tok=$(issue_one "${url[opaque]}" "${auth[opaque]}" "${body[opaque]}")
  url[introspect]="${url[opaque]%/token}/introspect"; auth[introspect]=${auth[opaque]}
  body[introspect]="token=$tok"
fi
if wants opaque-log; then serve_target opaque-log opaque info; pidof[opaque-log]=$pid_opaque_log; fi
if wants opaque-json; then
  serve_target opaque-json opaque info --log-format json; pidof[opaque-json]=$pid_opaque_json
fi
if wants_any jwt introspect-jwt; then
  serve_target jwt jwt warn
  pidof[jwt]=$pid_jwt; pidof[introspect-jwt]=$pid_jwt
  tok=$(issue_one "${url[jwt]}" "${auth[jwt]}" "${body[jwt]}")
  url[introspect-jwt]="${url[jwt]%/token}/introspect"; auth[introspect-jwt]=${auth[jwt]}
  body[introspect-jwt]="token=$tok"
fi
# The examples keep their tokens in a memory store whose caps JETON_MAX_TOKENS raises.
export JETON_MAX_TOKENS=10000000
if wants hyper; then
  port=$(jeton_free_port)
  start hyper warn "$rel/example-hyper-server" "127.0.0.1:$port"
  url[hyper]="http://127.0.0.1:$port/token"; auth[hyper]=$(basic demo-client "$(example_secret hyper)")
  body[hyper]="grant_type=client_credentials&scope=read"; pidof[hyper]=$pid_hyper
fi
for ex in axum actix; do
  if wants $ex; then
    port=$(jeton_free_port)
    JETON_ADDR="127.0.0.1:$port" start $ex warn "$rel/example-$ex-app" --opaque
    url[$ex]="http://127.0.0.1:$port/oauth/token"; auth[$ex]=$(basic shop "$(example_secret $ex)")
    body[$ex]="grant_type=client_credentials&scope=orders:read"
    pidof[$ex]=$(eval echo "\$pid_$ex")
  fi
done

# Each target answers one request by hand first: a 200.
for t in "${targets[@]}"; do
  [ -n "${url[$t]:-}" ] || { echo "unknown target $t" >&2; exit 1; }
  curl -sf -o /dev/null -H "Authorization: Basic ${auth[$t]}" -d "${body[$t]}" "${url[$t]}" ||
    { echo "$t: the first request failed" >&2; exit 1; }
done
