#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (nightly toolchain; opt-in, not part of CI).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Installs cargo-fuzz with `cargo install` when missing. Each target starts from the
# crate's own fixtures as seed corpus; new inputs go to fuzz/corpus/<target>, crashes
# to fuzz/artifacts/<target> (both ignored by git). Exits non-zero on the first crash.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
shift || true
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$root/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
seeds_of() {
  case "$1" in
    openstack_*) echo "$root/hybrid-openstack/tests/fixtures $root/hybrid-openstack/tests/realstack" ;;
    vsphere_*) echo "$root/hybrid-vsphere/tests/fixtures" ;;
    azure_*) echo "$root/hybrid-azure/tests/fixtures" ;;
  esac
}
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "=== $t for ${seconds}s"
  # shellcheck disable=SC2046
  cargo +nightly fuzz run -O "$t" "corpus/$t" $(seeds_of "$t") -- \
    -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=4096 -print_final_stats=1
done
