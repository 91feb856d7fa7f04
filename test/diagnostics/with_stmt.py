# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(x):
    y = x
    with open(y) as g:
        pass

# CHECK: {{.*}}with_stmt.py:4:5: error: 'with' is not supported in a kernel
# CHECK-NEXT: {{^}}    with open(y) as g:{{$}}
# CHECK-NEXT: {{^}}    ^{{$}}
