# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f():
    x = 1 + 9223372036854775808

# CHECK: {{.*}}int_overflow.py:3:13: error: integer literal is too large for a 64-bit integer
# CHECK-NEXT: {{^}}    x = 1 + 9223372036854775808{{$}}
# CHECK-NEXT: {{^}}            ^{{$}}
