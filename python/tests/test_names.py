"""Name resolution from the kernel's module: `from __future__ import annotations` (string annotations),
builtins imported by name, module-level dtypes/constexprs/bools, `triton.cdiv` and `tl.math` in kernels."""

from __future__ import annotations

import numpy as np

import mini_triton as triton
import mini_triton.language as tl
from mini_triton.language import arange as ar

OUT_DT = tl.float16
GROUP: tl.constexpr = 16
USE_EXP = True


@triton.jit
def names_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + ar(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    if USE_EXP:
        x = tl.math.exp(x)
    groups = triton.cdiv(n, GROUP)
    tl.store(out_ptr + offs, (x + groups).to(OUT_DT), mask=m)


def test_module_names_resolve(rng):
    n = 40
    x = rng.standard_normal(n).astype(np.float32)
    out = np.zeros(n, np.float16)
    names_kernel[(triton.cdiv(n, 16),)](x, out, n, BLOCK=16)
    assert names_kernel._is_constexpr == [False, False, False, True]  # the string annotation is seen
    ref = (np.exp(x.astype(np.float64)) + 3).astype(np.float16)
    np.testing.assert_allclose(out.astype(np.float64), ref.astype(np.float64), rtol=1e-3)
