#!/usr/bin/env bash
# Licence, ban and source policy (deny.toml) with cargo-deny, and `unsafe` forbidden in
# every crate except the Python bindings. Installs cargo-deny from crates.io when it is
# missing. Advisories are checked too where the RustSec database is reachable; when it
# is not, that is said, not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "installing cargo-deny (crates.io)"
    cargo install cargo-deny --locked --quiet
fi

cargo deny --log-level error check licenses bans sources

out=$(cargo deny --log-level error check advisories 2>&1) && status=0 || status=$?
if [ "$status" -eq 0 ]; then
    echo "advisories ok"
elif grep -q "failed to fetch advisory database" <<<"$out"; then
    echo "advisories: NOT CHECKED - the RustSec advisory database is unreachable from this machine"
else
    echo "$out"
    exit "$status"
fi

# unsafe: every member but hybrid-python inherits the workspace lints, which forbid it.
fail=0
for m in $(sed -n 's/^members = \[\(.*\)\]/\1/p' Cargo.toml | tr ',' '\n' | tr -d '" '); do
    [ "$m" = "hybrid-python" ] && continue
    if ! grep -Eq '^\[lints\]' "$m/Cargo.toml" || ! sed -n '/^\[lints\]/,/^\[/p' "$m/Cargo.toml" | grep -q 'workspace = true'; then
        echo "$m does not inherit the workspace lints (unsafe_code = forbid)"
        fail=1
    fi
done
grep -q 'unsafe_code = "forbid"' Cargo.toml || { echo "the workspace no longer forbids unsafe"; fail=1; }
[ "$fail" -eq 0 ] && echo "unsafe forbidden in every crate but hybrid-python"
exit "$fail"
