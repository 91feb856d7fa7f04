# tl.inline_asm_elementwise: one `inline_asm` op (Builtins.cpp), emitted per element as a CUDA asm statement
# (EmitInlineAsm.cpp): LLVM's $N operands become %N, a literal % is %%, and each operand passes through a
# register of its constraint's width holding the element's bits. nvcc compiles it for sm_90a. The CPU
# interpreter cannot run PTX and says so (python/tests/test_standard.py).
# RUN: %mtc %s -k asm_kernel x_ptr=*fp32:1024 y_ptr=*i32:1024 o_ptr=*fp32:1024 q_ptr=*i32:1024 --emit=ir | FileCheck %s --check-prefix=IR
# RUN: %mtc %s -k asm_kernel x_ptr=*fp32:1024 y_ptr=*i32:1024 o_ptr=*fp32:1024 q_ptr=*i32:1024 --emit=cuda --no-line-directives > %t.cu
# RUN: FileCheck %s --check-prefix=CUDA < %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
# RUN: not %mtc %s -k bad_pack x_ptr=*fp32:1024 --emit=ir 2>&1 | FileCheck %s --check-prefix=ERR
# IR: inline_asm {{.*}}{asm = "tanh.approx.f32 $0, $1;", constraints = "=f,f", pack = 1} : tensor<128xf32>
# CUDA: asm volatile("tanh.approx.f32 %0, %1;" : "=f"(mt_asm_o0) : "f"(mt_asm_i0));
# CUDA: asm volatile("{ .reg .u32 t; mov.u32 t, %%laneid; add.u32 %0, %2, t; mov.b32 %1, %3; }" : "=r"(mt_asm_o0), "=r"(mt_asm_o1) : "r"(mt_asm_i0), "r"(mt_asm_i1));
# ERR: inline_asm.py:[[@LINE+20]]:117: error: tl.inline_asm_elementwise: pack=4 is not supported
import triton
import triton.language as tl


@triton.jit
def asm_kernel(x_ptr, y_ptr, o_ptr, q_ptr):
    offs = tl.arange(0, 128)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    t = tl.inline_asm_elementwise("tanh.approx.f32 $0, $1;", "=f,f", [x], dtype=tl.float32, is_pure=True, pack=1)
    a, b = tl.inline_asm_elementwise("{ .reg .u32 t; mov.u32 t, %laneid; add.u32 $0, $2, t; mov.b32 $1, $3; }",
                                     "=r,=r,r,r", [y, x], dtype=(tl.int32, tl.float32), is_pure=True, pack=1)
    tl.store(o_ptr + offs, t + b)
    tl.store(q_ptr + offs, a)


@triton.jit
def bad_pack(x_ptr):
    x = tl.load(x_ptr + tl.arange(0, 128))
    tl.store(x_ptr + tl.arange(0, 128), tl.inline_asm_elementwise("mov.b32 $0, $1;", "=r,r", [x], tl.float32, True, 4))
