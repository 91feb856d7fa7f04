"""One kernel file, imported for either compiler: the benchmarks run the same kernel text under mini_triton and
under real Triton. Kernel files differ between the two only in their import lines."""

import importlib.util
import os
import sys
import tempfile

# (mini_triton's line, Triton's line); the language import first, since it starts like the package import.
_IMPORTS = (("import mini_triton.language as tl\n", "import triton.language as tl\n"),
            ("import mini_triton as triton\n", "import triton\n"))


def load(path, compiler):
    """Imports the kernel file at `path` with its import lines bound to `compiler` ("mini_triton" or
    "triton"), from a rewritten copy in a temporary folder (Triton reads kernel source from the file)."""
    with open(path) as f:
        text = f.read()
    for ours, theirs in _IMPORTS:
        text = text.replace(ours, theirs) if compiler == "triton" else text.replace(theirs, ours)
    name = f"{compiler}_{os.path.splitext(os.path.basename(path))[0]}_bench"
    copy = os.path.join(tempfile.mkdtemp(prefix="mt_bench_"), os.path.basename(path))
    with open(copy, "w") as f:
        f.write(text)
    spec = importlib.util.spec_from_file_location(name, copy)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
