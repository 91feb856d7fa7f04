# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(x, *args):
    return x

# CHECK: {{.*}}star_args.py:2:10: error: variadic parameters ('*') are not supported in a kernel
# CHECK-NEXT: {{^}}def f(x, *args):{{$}}
# CHECK-NEXT: {{^}}         ^{{$}}
