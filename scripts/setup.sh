#!/usr/bin/env bash
# Installs what building and testing mini-triton needs on Debian 12 (apt + pip). Idempotent: skips
# what is already there. Used by the README's commands and by CI.
set -euo pipefail

need_apt=()
for pkg in cmake ninja-build g++ clang-14 libclang-rt-14-dev libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev llvm-14-tools; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

PY=${PYTHON:-python3}
need_pip=()
for mod in lit pytest numpy nanobind scikit_build_core torch; do
  "$PY" -c "import $mod" >/dev/null 2>&1 || need_pip+=("${mod//_/-}")
done
if ((${#need_pip[@]})); then
  "$PY" -m pip install -q "${need_pip[@]}"
fi
