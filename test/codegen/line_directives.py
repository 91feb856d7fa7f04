# `#line` directives map the generated CUDA to this file: each op's lines are attributed to the line of the
# statement it came from (an inlined @jit helper's ops to the helper's lines), so that NVRTC's -lineinfo
# shows kernel lines in ncu and compute-sanitizer. The first directive names the file; later ones only
# change the number, and only where the count would otherwise drift onto another line: every line of a
# multi-line op (a masked load, a reduction, a loop) keeps its op's line.
# RUN: %mtc %s -k row_kernel x_ptr='*fp32:256' y_ptr='*fp32:256' n=i32:200 BLOCK=256 --emit=cuda | FileCheck %s
# RUN: %mtc %s -k row_kernel x_ptr='*fp32:256' y_ptr='*fp32:256' n=i32:200 BLOCK=256 --emit=cuda --no-line-directives | FileCheck %s --check-prefix=PLAIN
import triton
import triton.language as tl


@triton.jit
def square(v):
    return v * v


@triton.jit
def row_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    # CHECK: #line [[@LINE-1]] "{{.*}}line_directives.py"
    # CHECK-NEXT: mt::i32 [[PID:v[0-9]+]] = (mt::i32)blockIdx.x;
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + pid * n + offs, mask=mask, other=0.0)
    # CHECK-NEXT: #line [[@LINE-1]]{{$}}
    # CHECK-NEXT: mt::i32 {{v[0-9]+}} = mt::mul([[PID]], n);
    # CHECK: if (mt_vec) {
    # CHECK-NEXT: #line [[@LINE-4]]{{$}}
    # CHECK-NEXT: mt::loadVec<2>(&[[X:v[0-9]+]][mt_g], mt_p0);
    # CHECK-NEXT: #line [[@LINE-6]]{{$}}
    # CHECK-NEXT: } else {
    acc = tl.sum(square(x), axis=0)
    # The helper's multiply, at the helper's line, then the reduction.
    # CHECK: for (int i = 0; i < 2; ++i) {
    # CHECK-NEXT: #line [[@LINE-21]]{{$}}
    # CHECK-NEXT: [[SQ:v[0-9]+]][i] = mt::mul([[X]][i], [[X]][i]);
    # CHECK: #line [[@LINE-5]]{{$}}
    # CHECK-NEXT: mt::f32 [[SUM:v[0-9]+]];
    # CHECK: for (int mt_off
    # CHECK-NEXT: #line [[@LINE-8]]{{$}}
    # CHECK-NEXT: v{{[0-9]+}}_rhs = mt::shflXor(
    for i in range(3):
        acc = acc * 0.5
    # CHECK: mt::f32 [[ACC:v[0-9]+]] = [[SUM]];
    # CHECK-NEXT: #line [[@LINE-3]]{{$}}
    # CHECK-NEXT: for (mt::i32
    # The body's first line is the next line by the count: no directive.
    # CHECK-NEXT: mt::f32 [[MUL:v[0-9]+]] = mt::mul([[ACC]],
    # The yield and the loop's closing brace are the loop's again.
    # CHECK-NEXT: #line [[@LINE-8]]{{$}}
    # CHECK-NEXT: [[ACC]] = [[MUL]];
    # CHECK-NEXT: #line [[@LINE-10]]{{$}}
    # CHECK-NEXT: {{^  }}}
    tl.store(y_ptr + pid * n + offs, x / acc, mask=mask)
    # CHECK: if (mt_vec) {
    # CHECK-NEXT: #line [[@LINE-2]]{{$}}
    # CHECK-NEXT: mt::storeVec<2>(mt_p0,
    # The kernel's end: the return, at the def line.
    # CHECK: {{^}}#line [[@LINE-41]]{{$}}
    # CHECK-NEXT: {{^}}}
    # CHECK-NOT: #line

# PLAIN-NOT: #line
# PLAIN: mt::loadVec<2>(
# PLAIN-NOT: #line
