# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(n):
    for i in range(n):
        pass
    else:
        pass

# CHECK: {{.*}}for_else.py:5:5: error: 'for ... else' is not supported in a kernel
# CHECK-NEXT: {{^}}    else:{{$}}
# CHECK-NEXT: {{^}}    ^{{$}}
