# RUN: %mtc %s --emit=ast | FileCheck %s
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    """Elementwise x + y."""
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)

# CHECK-LABEL: (Module
# CHECK-NEXT: (Import triton as triton @2:1)
# CHECK-NEXT: (Import triton.language as tl @3:1)
# CHECK-NEXT: (FunctionDef add_kernel @7:1
# CHECK-NEXT: (decorators (Attribute jit @6:2 (Name triton @6:2)))
# CHECK-NEXT: (params (x_ptr @7:16) (y_ptr @7:23) (output_ptr @7:30) (n_elements @7:42) (BLOCK_SIZE @7:54 : (Attribute constexpr @7:66 (Name tl @7:66))))
# CHECK-NEXT: (docstring "Elementwise x + y.")
# CHECK-NEXT: (body
# CHECK-NEXT: (Assign @9:5 (Name pid @9:5) = (Call @9:11 (Attribute program_id @9:11 (Name tl @9:11)) (kw axis @9:25 (Int 0 @9:30))))
# CHECK: (Assign @12:5 (Name mask @12:5) = (Compare @12:12 (Name offsets @12:12) < (Name n_elements @12:22)))
# CHECK: (Expr @16:5 (Call @16:5 (Attribute store @16:5 (Name tl @16:5)) (BinOp + @16:14 (Name output_ptr @16:14) (Name offsets @16:27)) (Name output @16:36) (kw mask @16:44 (Name mask @16:49)))))))
