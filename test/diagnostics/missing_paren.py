# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(a, b):
    return (a b)

# CHECK: {{.*}}missing_paren.py:3:15: error: expected ')' to close the parenthesized expression, found identifier 'b'
# CHECK-NEXT: {{^}}    return (a b){{$}}
# CHECK-NEXT: {{^}}              ^{{$}}
