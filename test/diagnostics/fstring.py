# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(x):
    assert x > 0, f"bad {x}"

# CHECK: {{.*}}fstring.py:3:19: error: f-strings are not supported in a kernel
# CHECK-NEXT: {{^}}    assert x > 0, f"bad {x}"{{$}}
# CHECK-NEXT: {{^}}                  ^{{$}}
