# lit configuration: golden tests for the frontend, IR, passes and diagnostics.
#   RUN: %mtc --emit=ir %s | FileCheck %s
#   RUN: %mt-opt %s --cse | FileCheck %s
import os
import shutil
import lit.formats

config.name = "mini-triton"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".py", ".mtir"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(os.path.dirname(config.mt_tools_dir), "test")

config.substitutions.append(("%mtc", os.path.join(config.mt_tools_dir, "mtc", "mtc")))
config.substitutions.append(("%mt-opt", os.path.join(config.mt_tools_dir, "mt-opt", "mt-opt")))
config.substitutions.append(("%mt-cuda", os.path.join(config.mt_tools_dir, "mt-cuda", "mt-cuda")))
config.substitutions.append(("FileCheck", config.filecheck))
config.substitutions.append(("%python", config.python))
config.substitutions.append(("not ", os.path.join(os.path.dirname(config.filecheck), "not") + " "))

# nvcc (the CUDA toolkit's, where there is one): tests that read ptxas's own report on generated kernels.
_nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
if _nvcc:
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", _nvcc))
