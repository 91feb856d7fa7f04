"""Loads the C++ extension `mini_triton._C` and owns the process-wide compiler Context."""

from __future__ import annotations

import glob
import importlib
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _candidate_dirs():
    """Directories that may hold _C*.so besides the package itself: $MINI_TRITON_BUILD_DIR (the CMake
    build's python/ folder or the build root), then <repo>/build*/python/mini_triton of a source checkout."""
    env = os.environ.get("MINI_TRITON_BUILD_DIR")
    if env:
        yield os.path.join(env, "mini_triton")
        yield os.path.join(env, "python", "mini_triton")
    repo = os.path.dirname(os.path.dirname(_here))
    for d in sorted(glob.glob(os.path.join(repo, "build*", "python", "mini_triton"))):
        yield d


def _load():
    try:
        return importlib.import_module("mini_triton._C")
    except ImportError as first:
        pkg = sys.modules["mini_triton"]
        for d in _candidate_dirs():
            if glob.glob(os.path.join(d, "_C*.so")) or glob.glob(os.path.join(d, "_C*.pyd")):
                if d not in pkg.__path__:
                    pkg.__path__.append(d)
                try:
                    return importlib.import_module("mini_triton._C")
                except ImportError:
                    continue
        raise ImportError(
            "mini_triton: the C++ extension mini_triton._C was not found. Build it (cmake --build build) and set "
            "PYTHONPATH=python:build/python, or `pip install --no-build-isolation -e .`") from first


_C = _load()

_context = None


def context():
    """The process-wide compiler Context (created on first use)."""
    global _context
    if _context is None:
        _context = _C.Context()
    return _context


def num_compilations() -> int:
    """Compilations that missed the C++ cache so far (the Python cache sits in front of it)."""
    return context().num_compilations
