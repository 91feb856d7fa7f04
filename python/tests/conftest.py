"""pytest set-up: find the package (source tree) and its extension (CMake build tree), register markers."""

import os
import shutil
import sys

import pytest

_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Compiled GPU kernels go to a fresh on-disk cache per test session, not the user's ~/.cache/mini_triton.
if "MINI_TRITON_CACHE_DIR" not in os.environ:
    import tempfile
    os.environ["MINI_TRITON_CACHE_DIR"] = tempfile.mkdtemp(prefix="mini_triton_test_cache_")
try:
    import mini_triton  # noqa: F401  (installed, or on PYTHONPATH)
except ImportError:
    sys.path.insert(0, _PYTHON_DIR)  # mini_triton/_ext.py then finds <repo>/build*/python/mini_triton/_C*.so


def _has_gpu() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return shutil.which("nvidia-smi") is not None


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs an NVIDIA GPU (skipped without one)")


def pytest_collection_modifyitems(config, items):
    if _has_gpu():
        return
    skip = pytest.mark.skip(reason="no GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    import numpy as np
    return np.random.default_rng(int(os.environ.get("MINI_TRITON_TEST_SEED", "1234")))
