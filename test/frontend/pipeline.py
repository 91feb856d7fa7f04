# The default pipeline on a lowered kernel: identities fold, invariant code leaves the loop.
# RUN: %mtc %s -k k --emit=ir-opt out_ptr='*fp32' n=i32 BLOCK=64 | FileCheck %s
# RUN: %mtc %s -k k --print-ir-after-all out_ptr='*fp32' n=i32 BLOCK=64 | FileCheck %s --check-prefix=ALL
import triton
import triton.language as tl


@triton.jit
def k(out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    a = offs + 0
    b = offs * 1
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for i in range(0, 4):
        t = n * 3
        acc += (a + b + t + i).to(tl.float32)
    tl.store(out_ptr + offs, acc, mask=offs < n)

# CHECK-LABEL: func @k
# CHECK: %[[OFFS:.*]] = add %{{.*}}, %{{.*}} : tensor<64xi32>
# CHECK-DAG: add %[[OFFS]], %[[OFFS]] : tensor<64xi32>
# CHECK-DAG: mul %n, %{{.*}} : i32
# CHECK: for
# CHECK-NOT: mul %n
# CHECK: yield

# ALL: // ----- IR after lowering -----
# ALL: // ----- IR after canonicalize -----
# ALL: // ----- IR after cse -----
# ALL: // ----- IR after licm -----
# ALL: // ----- IR after dce -----
