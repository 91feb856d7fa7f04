# Vector loads and stores that the axis analysis proves aligned and consecutive (EmitAxis.cpp: 16-byte pointer
# hints of aligned arguments, offsets that are multiples of the vector width, a mask uniform over each group)
# need no run-time checks and no element path: one vector access under the mask, `other` where it is off.
# A pointer one element off (x_ptr + 1 + offs) keeps the checked path.
# RUN: %mtc %s -k copy x_ptr=*fp32:16 y_ptr=*fp32:16 N=4096 BLOCK=1024 --emit=cuda --no-line-directives | FileCheck %s
# RUN: %mtc %s -k copy_shifted x_ptr=*fp32:16 y_ptr=*fp32:16 N=4096 BLOCK=1024 --emit=cuda --no-line-directives | FileCheck %s --check-prefix=CHECKED
# CHECK: mt::f32 * const mt_p0 =
# CHECK-NEXT: const bool mt_vec =
# CHECK-NEXT: if (mt_vec) {
# CHECK-NEXT: mt::loadVec<4>(
# CHECK-NEXT: } else {
# CHECK: = (mt::cvt<mt::f32>(0x1p+0));
# CHECK: mt::f32 * const mt_p0 =
# CHECK-NEXT: const bool mt_vec =
# CHECK-NEXT: if (mt_vec) {
# CHECK-NEXT: mt::storeVec<4>(
# CHECK-NEXT: }
# CHECK-NOT: mt::aligned
# Offsets wrapped around N, `(pid * BLOCK + arange) % N` with N % 16 == 0: contiguous over each group because
# pid * BLOCK + arange >= 0 is shown (EmitAxis.cpp nonNegative); the same from an argument's value is not.
# RUN: %mtc %s -k wrapped x_ptr=*fp32:16 y_ptr=*fp32:16 N=4096 BLOCK=1024 --emit=cuda --no-line-directives | FileCheck %s --check-prefix=WRAP
# RUN: %mtc %s -k wrapped_from x_ptr=*fp32:16 y_ptr=*fp32:16 S=8 N=4096 BLOCK=1024 --emit=cuda --no-line-directives | FileCheck %s --check-prefix=WRAPCHECKED
# WRAP-NOT: mt::aligned
# WRAP: mt::loadVec<4>(
# WRAP-NOT: mt::aligned
# WRAPCHECKED: mt_vec = mt::aligned<16>(mt_p0)
# WRAPCHECKED: mt::loadVec<4>(
# CHECKED: mt_vec = mt::aligned<16>(mt_p0)
# CHECKED: mt::loadVec<4>(
# CHECKED: mt::f32 * const mt_p0 =
# CHECKED: mt::storeVec<4>(
import triton
import triton.language as tl


@triton.jit
def copy(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < N, other=1.0)
    tl.store(y_ptr + offs, x, mask=offs < N)


@triton.jit
def copy_shifted(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + 1 + offs, mask=offs < N, other=1.0)
    tl.store(y_ptr + offs, x, mask=offs < N)


@triton.jit
def wrapped(x_ptr, y_ptr, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs % N)
    tl.store(y_ptr + offs, x)


@triton.jit
def wrapped_from(x_ptr, y_ptr, S, N, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + (S + offs) % N)
    tl.store(y_ptr + offs, x)
