# RUN: %mtc --help | FileCheck %s --check-prefix=HELP
# RUN: not %mtc %s.missing --emit=ast 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: not %mtc %s --emit=bogus 2>&1 | FileCheck %s --check-prefix=BOGUS
# RUN: %mtc %s | FileCheck %s --check-prefix=DEFAULT

# HELP: Usage:
# HELP: --emit
# MISSING: mtc: error: cannot read '{{.*}}cli.py.missing'
# BOGUS: {{.*}}bogus
# DEFAULT: (Module
# DEFAULT-NEXT: (Global
# DEFAULT-NEXT: (Assign @13:1 (Name X @13:1) = (Int 1 @13:5))))
X = 1
