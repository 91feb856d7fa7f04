import triton
import triton.language as tl
@triton.jit
def k(A, B, M, N, stride_m, BM: tl.constexpr, BN: tl.constexpr):
    a_bp = tl.make_block_ptr(base=A, shape=(M, N), strides=(stride_m, 1), offsets=(tl.program_id(0) * BM, 0),
                             block_shape=(BM, BN), order=(1, 0))
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for i in range(0, N, BN):
        x = tl.load(a_bp, boundary_check=(0, 1), padding_option="zero")
        acc += x
        a_bp = tl.advance(a_bp, (0, BN))
    b_bp = tl.make_block_ptr(B, (M, N), (stride_m, 1), (0, 0), (BM, BN), (1, 0))
    tl.store(b_bp, acc, boundary_check=(0,))
