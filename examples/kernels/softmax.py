"""Fused row-wise softmax: one program instance per row (Triton tutorial 02 style)."""
# mtc-run: softmax_kernel output_ptr=*fp32:3700 input_ptr=*fp32:3700 input_row_stride=i32:100 output_row_stride=i32:100 n_cols=i32:100 BLOCK_SIZE=128 grid=37
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols,
                   BLOCK_SIZE: tl.constexpr):
    row_idx = tl.program_id(0)
    row_start_ptr = input_ptr + row_idx * input_row_stride
    col_offsets = tl.arange(0, BLOCK_SIZE)
    input_ptrs = row_start_ptr + col_offsets
    mask = col_offsets < n_cols
    # Padding lanes read -inf so that they neither win the max nor add to the sum (exp(-inf) = 0).
    row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
    row_minus_max = row - tl.max(row, axis=0)
    numerator = tl.exp(row_minus_max)
    denominator = tl.sum(numerator, axis=0)
    softmax_output = numerator / denominator
    output_row_start_ptr = output_ptr + row_idx * output_row_stride
    output_ptrs = output_row_start_ptr + col_offsets
    tl.store(output_ptrs, softmax_output, mask=mask)
