# RUN: %mtc %s --emit=ast | FileCheck %s
import triton
import triton.language as tl


@triton.autotune(
    configs=[
        triton.Config({'BLOCK_SIZE_M': 128, 'BLOCK_SIZE_N': 256, 'BLOCK_SIZE_K': 64, 'GROUP_SIZE_M': 8},
                      num_stages=3, num_warps=8),
        triton.Config({'BLOCK_SIZE_M': 64, 'BLOCK_SIZE_N': 256, 'BLOCK_SIZE_K': 32, 'GROUP_SIZE_M': 8},
                      num_stages=4, num_warps=4),
    ],
    key=['M', 'N', 'K'],
)
@triton.jit
def matmul_kernel(
        a_ptr, b_ptr, c_ptr,
        M, N, K,
        stride_am, stride_ak,
        stride_bk, stride_bn,
        stride_cm, stride_cn,
        BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,
        GROUP_SIZE_M: tl.constexpr,
        ACTIVATION: tl.constexpr = ""
):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(tl.float16)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@triton.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)

# CHECK: (FunctionDef matmul_kernel @16:1
# CHECK-NEXT: (decorators (Call @6:2 (Attribute autotune @6:2 (Name triton @6:2)) (kw configs @7:5 (List @7:13 (Call @8:9 (Attribute Config @8:9 (Name triton @8:9)) (Dict @8:23 ((String "BLOCK_SIZE_M" @8:24) (Int 128 @8:40)) ((String "BLOCK_SIZE_N" @8:45) (Int 256 @8:61))
# CHECK-SAME: (kw key @13:5 (List @13:9 (String "M" @13:10) (String "N" @13:15) (String "K" @13:20)))) (Attribute jit @15:2 (Name triton @15:2)))
# CHECK-NEXT: (params (a_ptr @17:9) (b_ptr @17:16)
# CHECK-SAME: (ACTIVATION @24:9 : (Attribute constexpr @24:21 (Name tl @24:21)) = (String "" @24:36)))
# CHECK: (Assign @30:5 (Name group_id @30:5) = (BinOp // @30:16 (Name pid @30:16) (Name num_pid_in_group @30:23)))
# CHECK: (Assign @39:5 (Name a_ptrs @39:5) = (BinOp + @39:14 (Name a_ptr @39:14) (BinOp + @39:23 (BinOp * @39:23 (Subscript @39:23 (Name offs_am @39:23) (Tuple @39:31 (Slice @39:31 _ _ _) (None @39:34))) (Name stride_am @39:42)) (BinOp * @39:54 (Subscript @39:54 (Name offs_k @39:54) (Tuple @39:61 (None @39:61) (Slice @39:67 _ _ _))) (Name stride_ak @39:72)))))
# CHECK: (Assign @42:5 (Name accumulator @42:5) = (Call @42:19 (Attribute zeros @42:19 (Name tl @42:19)) (Tuple @42:28 (Name BLOCK_SIZE_M @42:29) (Name BLOCK_SIZE_N @42:43)) (kw dtype @42:58
# CHECK: (AugAssign += @47:9 (Name a_ptrs @47:9) (BinOp * @47:19 (Name BLOCK_SIZE_K @47:19) (Name stride_ak @47:34)))
# CHECK: (Assign @56:5 (Name c_mask @56:5) = (BinOp & @56:14 (Compare @56:15
# CHECK: (FunctionDef leaky_relu @61:1
# CHECK: (Return @62:5 (Call @62:12 (Attribute where @62:12 (Name tl @62:12)) (Compare @62:21 (Name x @62:21) >= (Int 0 @62:26)) (Name x @62:29) (BinOp * @62:32 (Float 0.01 @62:32) (Name x @62:39))))))
