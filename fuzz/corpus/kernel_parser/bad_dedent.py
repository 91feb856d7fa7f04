# RUN: not %mtc %s --emit=ast 2>&1 | FileCheck --strict-whitespace %s
def f(x):
    if x:
        y = 1
      z = 2
    return y

# CHECK: {{.*}}bad_dedent.py:5:7: error: unindent does not match any outer indentation level
# CHECK-NEXT: {{^}}      z = 2{{$}}
# CHECK-NEXT: {{^}}      ^{{$}}
