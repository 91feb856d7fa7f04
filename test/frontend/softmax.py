# RUN: %mtc %s --emit=ast | FileCheck %s
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                   BLOCK_SIZE: tl.constexpr, num_stages: tl.constexpr):
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        row_start_ptr = input_ptr + row_idx * input_row_stride
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        row_minus_max = row - tl.max(row, axis=0)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)

# CHECK: (FunctionDef softmax_kernel @7:1
# CHECK: (params {{.*}} (n_cols @7:88) (BLOCK_SIZE @8:20 : (Attribute constexpr @8:32 (Name tl @8:32))) (num_stages @8:46
# CHECK: (For @11:5 (Name row_idx @11:9) (Call @11:20 (Attribute range @11:20 (Name tl @11:20)) (Name row_start @11:29) (Name n_rows @11:40) (Name row_step @11:48) (kw num_stages @11:58 (Name num_stages @11:69)))
# CHECK-NEXT: (body
# CHECK: (kw other @16:46 (UnaryOp - @16:52 (Call @16:53 (Name float @16:53) (String "inf" @16:59)))))
# CHECK: (Assign @20:9 (Name softmax_output @20:9) = (BinOp / @20:26 (Name numerator @20:26) (Name denominator @20:38)))
