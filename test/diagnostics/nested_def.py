# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
import triton


@triton.jit
def outer(x):
    def inner(y):
        return y
    return x

# CHECK: {{.*}}nested_def.py:7:5: error: nested function definitions are not supported in a kernel
# CHECK-NEXT: {{^}}    def inner(y):{{$}}
# CHECK-NEXT: {{^}}    ^{{$}}
