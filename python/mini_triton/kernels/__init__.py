"""Library kernels written in mini_triton's (Triton's) kernel language; the torch-facing ops are in
mini_triton.ops.

A kernel module here differs from a Triton module only in its two imports (`import mini_triton as triton`,
`import mini_triton.language as tl`). `triton_twin(module)` loads the same source with those two lines bound to
real Triton, so that benchmarks and cross-checks compile one kernel text with both compilers; the ops take the
result as `kernels=`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile

_IMPORTS = (("import mini_triton.language as tl", "import triton.language as tl"),
            ("import mini_triton as triton", "import triton"))
_twins: dict = {}


def triton_twin(module, *, directory=None):
    """`module` (a kernel module of this package, or a path to one) compiled by real Triton: its source with the
    mini_triton imports rewritten to triton's, written to `directory` (default: a temporary folder; Triton reads
    kernel source from the file) and imported as `<name>_triton`. Cached per source path. Raises ImportError when
    Triton is not installed."""
    import triton  # noqa: F401  (fail early and clearly)

    path = module if isinstance(module, str) else module.__file__
    if path in _twins:
        return _twins[path]
    with open(path) as f:
        text = f.read()
    for ours, theirs in _IMPORTS:
        if ours not in text:
            raise ValueError(f"{path}: expected the line '{ours}' (a kernel module of mini_triton)")
        text = text.replace(ours, theirs)
    name = os.path.splitext(os.path.basename(path))[0] + "_triton"
    out_dir = directory or tempfile.mkdtemp(prefix="mt_triton_twin_")
    out = os.path.join(out_dir, name + ".py")
    with open(out, "w") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, out)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    _twins[path] = mod
    return mod
