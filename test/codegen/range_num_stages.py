# tl.range(..., num_stages=N) sets the loop's own pipeline depth: the for op carries {num_stages = N} and the
# CUDA backend's cp.async ring has N stages (EmitDotPipeline.cpp), whatever the launch's num_stages.
# RUN: %mtc %s -k mm a=*fp16:4096 b=*fp16:4096 c=*fp32:1024 KT=4 --emit=ir-opt | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k mm a=*fp16:4096 b=*fp16:4096 c=*fp32:1024 KT=4 --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k mm a=*fp16:4096 b=*fp16:4096 c=*fp32:1024 KT=4 --emit=cuda --num-stages 1 --no-line-directives | FileCheck %s
# RUN: not %mtc %s -k bad a=*fp16:4096 b=*fp16:4096 c=*fp32:1024 KT=4 n=i32:2 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR
# IR: {num_stages = 4}
# CHECK: // the dots' operands, 4 stages of cp.async (EmitDotPipeline.cpp)
# CHECK: mt::cpAsyncWait<2>();
# CHECK: = [[ST:v[0-9]+_stage]] + 1 == 4 ? 0 : [[ST]] + 1;
# ERR: range_num_stages.py:[[@LINE+19]]:{{[0-9]+}}: error: tl.range num_stages must be a compile-time integer
import triton
import triton.language as tl


@triton.jit
def mm(a, b, c, KT: tl.constexpr):
    r = tl.arange(0, 32)
    acc = tl.zeros((32, 32), dtype=tl.float32)
    for k in tl.range(0, KT, num_stages=4):
        x = tl.load(a + k * 1024 + r[:, None] * 32 + r[None, :])
        y = tl.load(b + k * 1024 + r[:, None] * 32 + r[None, :])
        acc = tl.dot(x, y, acc)
    tl.store(c + r[:, None] * 32 + r[None, :], acc)


@triton.jit
def bad(a, b, c, KT: tl.constexpr, n):
    acc = tl.zeros((32, 32), dtype=tl.float32)
    for k in tl.range(0, KT, num_stages=n):
        acc += 1.0
    tl.store(c + tl.arange(0, 32)[:, None] * 32 + tl.arange(0, 32)[None, :], acc)
