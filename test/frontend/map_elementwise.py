# tl.map_elementwise (BuiltinsElementwise.cpp): the function is inlined once on whole tensors, and control flow
# on a per-element condition in it is lowered per element (LowerControl.cpp): an `if` computes both branches
# and merges them with `select` on the condition; integer arithmetic under a mask runs on 0 (divisors: 1) for
# the other elements; a `while` runs while any element's condition holds (a `reduce` of `or`), recomputes the
# condition as the mask of its body and merges each result with it. pack=2 splits each argument into its
# even and odd elements and joins the results back. nvcc compiles the CUDA for sm_90a.
# RUN: %mtc %s -k k i_ptr='*i32:64' f_ptr='*fp32:64' o_ptr='*i32:64' p_ptr='*fp32:64' | FileCheck %s
# RUN: %mtc %s -k k i_ptr='*i32:64' f_ptr='*fp32:64' o_ptr='*i32:64' p_ptr='*fp32:64' --emit=cuda --no-line-directives > %t.cu
# RUN: %if nvcc %{ rm -rf %t.inc && mkdir -p %t.inc && ln -s %S/../../device %t.inc/mt %}
# RUN: %if nvcc %{ %nvcc -arch=sm_90a -cubin -std=c++17 -I%t.inc %t.cu -o %t.cubin %}
# RUN: not %mtc %s -k bad i_ptr='*i32:64' 2>&1 | FileCheck %s --check-prefix=ERR
import triton
import triton.language as tl


@triton.jit
def halve_or_triple(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@triton.jit
def pair(a, b):
    return b, a


@triton.jit
def k(i_ptr, f_ptr, o_ptr, p_ptr):
    offs = tl.arange(0, 64)
    tl.store(o_ptr + offs, tl.map_elementwise(halve_or_triple, tl.load(i_ptr + offs)))
    tl.store(p_ptr + offs, tl.map_elementwise(pair, tl.load(f_ptr + offs), pack=2))


@triton.jit
def loads(p, x):
    if x > 0:
        return tl.load(p)  # memory under a per-element condition: refused
    return 0


@triton.jit
def bad(i_ptr):
    tl.store(i_ptr + tl.arange(0, 64), tl.map_elementwise(loads, i_ptr + tl.arange(0, 64), tl.arange(0, 64) - 5))

# CHECK: [[N:%[0-9]+]] = load {{.*}} : tensor<64xi32>
# CHECK: while [[N]], {{.*}} : tensor<64xi32>, tensor<64xi32> {
# CHECK: [[C:%[0-9]+]] = cmp {{.*}} {pred = "ne"} : tensor<64xi1>
# CHECK-NEXT: [[ANY:%[0-9]+]] = reduce [[C]] {axis = 0} : i1 {
# CHECK: or
# CHECK: condition [[ANY]],
# CHECK: } else {
# CHECK-NEXT: ^bb([[X:%[0-9]+]]: tensor<64xi32>, [[S:%[0-9]+]]: tensor<64xi32>):
# CHECK-NEXT: [[ACTIVE:%[0-9]+]] = cmp [[X]], {{.*}} {pred = "ne"} : tensor<64xi1>
# CHECK-NEXT: [[SAFE:%[0-9]+]] = select [[ACTIVE]], [[X]], {{.*}} : tensor<64xi32>
# CHECK-NEXT: [[R:%[0-9]+]] = rem [[SAFE]], {{.*}} : tensor<64xi32>
# CHECK-NEXT: [[EVEN:%[0-9]+]] = cmp [[R]], {{.*}} {pred = "eq"} : tensor<64xi1>
# CHECK-NEXT: [[ODD:%[0-9]+]] = not [[EVEN]] : tensor<64xi1>
# CHECK-NEXT: [[THEN:%[0-9]+]] = and [[ACTIVE]], [[EVEN]] : tensor<64xi1>
# CHECK-NEXT: [[ELSE:%[0-9]+]] = and [[ACTIVE]], [[ODD]] : tensor<64xi1>
# CHECK-NEXT: select [[THEN]], [[X]]
# CHECK-NEXT: div
# CHECK-NEXT: select [[ELSE]], [[X]]
# CHECK-NEXT: mul
# CHECK-NEXT: select [[ELSE]]
# CHECK-NEXT: add
# CHECK-NEXT: [[MERGED:%[0-9]+]] = select [[EVEN]],
# CHECK-NEXT: select [[ACTIVE]], [[S]]
# CHECK-NEXT: [[STEPS:%[0-9]+]] = add
# CHECK-NEXT: [[XN:%[0-9]+]] = select [[ACTIVE]], [[MERGED]], [[X]] : tensor<64xi32>
# CHECK-NEXT: [[SN:%[0-9]+]] = select [[ACTIVE]], [[STEPS]], [[S]] : tensor<64xi32>
# CHECK-NEXT: yield [[XN]], [[SN]]
# CHECK: [[F:%[0-9]+]] = load {{.*}} : tensor<64xf32>
# CHECK: [[P:%[0-9]+]] = reshape [[F]] : tensor<32x2xf32>
# CHECK: split {{.*}} : tensor<32x1xf32>, tensor<32x1xf32>
# CHECK: join {{.*}} : tensor<32x1x2xf32>
# CHECK: reshape {{.*}} : tensor<64xf32>
# ERR: map_elementwise.py:[[@LINE-40]]:16: error: 'load' in a per-element if of tl.map_elementwise's function is not supported
