#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs every test (GoogleTest, lit, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}"
FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz_smoke.sh
