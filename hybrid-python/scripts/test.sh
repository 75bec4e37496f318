#!/usr/bin/env bash
# Builds the `hybrid` wheel with maturin, installs it into a fresh virtualenv and runs
# the pytest suite (sync and asyncio, against the mock, a local fake OpenStack and a
# local fake Azure).
#
#   bash hybrid-python/scripts/test.sh [pytest args...]
#
# Needs only the Rust toolchain and Python >= 3.10 with venv and pip. Environment:
#   PYTHON               interpreter to build the venv from (default: python3)
#   HYBRID_PY_VENV       where the venv lives (default: <workspace>/target/hybrid-py-venv)
#   HYBRID_PY_PROFILE    release (default) or dev: the cargo profile of the wheel and of
#                        the fakes
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"
venv="${HYBRID_PY_VENV:-$root/target/hybrid-py-venv}"
profile="${HYBRID_PY_PROFILE:-release}"
case "$profile" in
  release) cargo_flag=(--release); target_sub=release ;;
  dev) cargo_flag=(); target_sub=debug ;;
  *) echo "HYBRID_PY_PROFILE must be release or dev, not $profile" >&2; exit 2 ;;
esac

step() { echo; echo "=== hybrid-python: $*"; }

step "virtualenv $venv"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "maturin>=1.9.4,<2" "pytest>=7"
"$venv/bin/python" --version
"$venv/bin/maturin" --version

step "fake OpenStack and fake Azure ($profile)"
(cd "$root" && cargo build "${cargo_flag[@]}" -p hybrid-fake-openstack --bin fake-openstack \
  -p hybrid-fake-azure --bin fake-azure)
export HYBRID_FAKE_OPENSTACK="$root/target/$target_sub/fake-openstack"
export HYBRID_FAKE_AZURE="$root/target/$target_sub/fake-azure"

step "wheel ($profile)"
wheels="$root/target/wheels/hybrid-python"
rm -rf "$wheels"
started=$(date +%s)
# maturin sets PYO3_BUILD_EXTENSION_MODULE, so the module does not link libpython.
"$venv/bin/maturin" build "${cargo_flag[@]}" --manifest-path "$here/Cargo.toml" \
  --interpreter "$venv/bin/python" --out "$wheels"
echo "wheel built in $(( $(date +%s) - started )) s: $(ls "$wheels")"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheels"/*.whl

step "pytest"
cd "$here"
"$venv/bin/python" -m pytest "$@" tests
