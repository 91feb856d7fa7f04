# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(x):
    y = tl.load(x,
                mask=None
    return y

# CHECK: {{.*}}unclosed_paren.py:3:16: error: '(' was never closed
# CHECK-NEXT: {{^}}    y = tl.load(x,{{$}}
# CHECK-NEXT: {{^}}               ^{{$}}
