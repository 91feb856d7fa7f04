#!/usr/bin/env bash
# Device-side diagnosis of the torch-first CUDA compile crash (see cuda_torch_first_probe.py).
# Builds _C, then: (1) which mapped libraries export libstdc++'s ostream inserters after torch's CUDA init,
# (2) where _C's references bind (LD_DEBUG=bindings), (3) the probe with relink variants of _C.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd); cd "$ROOT"
OUT=${OUT:-/tmp/diag-out}; mkdir -p "$OUT"
B=/tmp/diag-build
if ! python3 -m nanobind --cmake_dir >/dev/null 2>&1 && [ -d .devdeps/py/nanobind ]; then export PYTHONPATH=$ROOT/.devdeps/py; fi
cmake -S . -B $B -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMT_BUILD_TESTS=OFF -DCMAKE_CXX_FLAGS="-I$ROOT/.devdeps/include" >$OUT/build.log 2>&1
cmake --build $B -j16 --target _C >>$OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
export MINI_TRITON_BUILD_DIR=$B/python
P=scripts/debug/cuda_torch_first_probe.py
{
python3 - <<'PY'
import torch, subprocess
x = torch.randn(4, device="cuda")
libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if ".so" in l})
for lib in libs:
    r = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
    hits = [s for s in ("_ZNSo9_M_insertIlEERSoT_", "_ZNSt6locale7classicEv", "_ZNSt6localeC1Ev") if s in r]
    if hits or "stdc++" in lib: print(lib, hits)
PY
} >$OUT/exporters.txt 2>&1
LD_DEBUG=bindings python3 $P torch-first >$OUT/bind_stdout.txt 2>$OUT/bind_raw.txt
grep -E "mini_triton/_C.*(_M_insert|locale|ostringstream|basic_ostream)" $OUT/bind_raw.txt | head -60 >$OUT/bindings.txt
grep -c . $OUT/bind_raw.txt >>$OUT/bindings.txt; rm -f $OUT/bind_raw.txt
run_probe() { # tag
  for order in torch-first mt-first; do
    timeout 120 python3 $P $order >$OUT/probe_$1_$order.txt 2>&1; echo "$1 $order rc=$?" | tee -a $OUT/summary.txt
  done
}
run_probe default
for flags in "-Wl,-z,now" "-static-libstdc++ -Wl,--exclude-libs,ALL" "-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -Wl,-Bsymbolic"; do
  tag=$(echo "$flags" | tr -c 'a-z0-9' '_' | cut -c1-40)
  cmake -S . -B $B -DCMAKE_MODULE_LINKER_FLAGS="$flags" >>$OUT/build.log 2>&1
  cmake --build $B -j16 --target _C >>$OUT/build.log 2>&1 || echo "$tag build failed" >>$OUT/summary.txt
  ldd $B/python/mini_triton/_C*.so >>$OUT/summary.txt
  run_probe "$tag"
done
cat $OUT/summary.txt; head -30 $OUT/exporters.txt $OUT/bindings.txt
