# RUN: %mtc %s --emit=ast | FileCheck %s
import triton
import triton.language as tl

EPS: tl.constexpr = 1e-5


@triton.jit
def _layer_norm_fwd_fused(
    X,  # pointer to the input
    Y,  # pointer to the output
    W,  # pointer to the weights
    B,  # pointer to the biases
    Mean,  # pointer to the mean
    Rstd,  # pointer to the 1/std
    stride,  # how much to increase the pointer when moving by 1 row
    N,  # number of columns in X
    eps,  # epsilon to avoid division by zero
    BLOCK_SIZE: tl.constexpr,
):
    # Map the program id to the row of X and Y it should compute.
    row = tl.program_id(0)
    Y += row * stride
    X += row * stride
    # Compute mean
    mean = 0
    _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        _mean += a
    mean = tl.sum(_mean, axis=0) / N
    # Compute variance
    _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.)
        _var += x * x
    var = tl.sum(_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
        x_hat = (x - mean) * rstd
        y = x_hat * w + b
        tl.store(Y + cols, y, mask=mask)

# CHECK: (Global
# CHECK-NEXT: (AnnAssign @5:1 (Name EPS @5:1) : (Attribute constexpr @5:6 (Name tl @5:6)) = (Float 1e-05 @5:21)))
# CHECK: (FunctionDef _layer_norm_fwd_fused @9:1
# CHECK: (params (X @10:5) (Y @11:5) (W @12:5) (B @13:5) (Mean @14:5) (Rstd @15:5) (stride @16:5) (N @17:5) (eps @18:5) (BLOCK_SIZE @19:5 : (Attribute constexpr @19:17 (Name tl @19:17))))
# CHECK: (AugAssign += @23:5 (Name Y @23:5) (BinOp * @23:10 (Name row @23:10) (Name stride @23:16)))
# CHECK: (Assign @30:9 (Name a @30:9) = (Call @30:13 (Attribute to @30:13 (Call @30:13 (Attribute load @30:13 (Name tl @30:13)) (BinOp + @30:21 (Name X @30:21) (Name cols @30:25)) (kw mask @30:31 (Compare @30:36 (Name cols @30:36) < (Name N @30:43))) (kw other @30:46 (Float 0.0 @30:52)))) (Attribute float32 @30:59 (Name tl @30:59))))
# CHECK: (Assign @41:5 (Name rstd @41:5) = (BinOp / @41:12 (Int 1 @41:12) (Call @41:16
