#!/usr/bin/env bash
# A short libFuzzer run of each fuzz target (kernel parser, IR parser), part of the test command.
# Builds with clang-14 + ASan/UBSan into ${FUZZ_BUILD_DIR:-build-fuzz}; FUZZ_SECONDS per target (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
CXX_FUZZ=$(command -v clang++-14 || command -v clang++ || echo /usr/lib/llvm-14/bin/clang++)
C_FUZZ=$(command -v clang-14 || command -v clang || echo /usr/lib/llvm-14/bin/clang)
DIR=${FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-20}
CC=$C_FUZZ CXX=$CXX_FUZZ cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMT_BUILD_FUZZERS=ON -DMT_BUILD_TESTS=OFF >/dev/null
targets=(kernel_parser_fuzzer ir_parser_fuzzer)
cmake --build "$DIR" -j "${JOBS:-$(nproc)}" --target "${targets[@]}"
for t in "${targets[@]}"; do
  corpus=$(mktemp -d)
  cp fuzz/corpus/"${t%_fuzzer}"/* "$corpus"/
  dict=()
  [ -f "fuzz/${t%_fuzzer}.dict" ] && dict=(-dict="fuzz/${t%_fuzzer}.dict")
  echo "== fuzzing $t for ${SECONDS_EACH}s"
  "$DIR/fuzz/$t" "$corpus" "${dict[@]}" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
    -print_final_stats=1 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|crash' || true
  # libFuzzer exits non-zero on a crash and writes crash-* files: fail the run on either.
  if ls crash-* leak-* timeout-* >/dev/null 2>&1; then
    echo "fuzzer $t found a failing input:"; ls crash-* leak-* timeout-* 2>/dev/null; exit 1
  fi
  rm -rf "$corpus"
done
