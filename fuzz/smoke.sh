#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 20) from the committed seeds; exits non-zero on
# any crash, panic, leak or timeout. CI calls it; see fuzz/README.md.
#
#   bash fuzz/smoke.sh [SECONDS]
#
# New inputs go to a throw-away directory, so the committed seeds/ never change. Crash files
# land in fuzz/artifacts/<target>/ (gitignored).
set -euo pipefail

SECONDS_PER_TARGET="${1:-20}"
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Nightly if installed; otherwise let stable accept the nightly-only flags cargo-fuzz passes.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

targets=$("${fuzz[@]}" list)
"${fuzz[@]}" build

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in $targets; do
    if [ ! -d "seeds/$target" ] || [ -z "$(ls -A "seeds/$target")" ]; then
        echo "smoke: no seeds for $target" >&2
        failed+=("$target (no seeds)")
        continue
    fi
    mkdir -p "$work/$target"
    echo "smoke: $target for ${SECONDS_PER_TARGET}s"
    dict=()
    if [ -f "dict/$target.dict" ]; then
        dict=("-dict=dict/$target.dict")
    fi
    if ! "${fuzz[@]}" run "$target" "$work/$target" "seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}"; then
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke: FAILED: ${failed[*]} (reproducers in fuzz/artifacts/)" >&2
    exit 1
fi
echo "smoke: all targets ran ${SECONDS_PER_TARGET}s without a finding"
