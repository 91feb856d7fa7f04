// The launch path's argument classifier (see Classify.cpp).
#pragma once

#include <nanobind/nanobind.h>

namespace mt::python {

/// Classifies the bound kernel arguments. `kinds` has one byte per parameter: 'c' constexpr, 's' runtime
/// (Triton's integer specialisations apply), 'n' runtime listed in do_not_specialize. `ptrKeys` maps an
/// array/tensor dtype object to (key if 16-byte aligned, key otherwise, and the same two for CUDA tensors).
/// Returns (key parts tuple,
/// launch-argument list) or None when some argument needs the Python path.
nanobind::object classify(nanobind::handle bound, nanobind::handle kinds, nanobind::handle ptrKeys,
                          nanobind::handle ndarrayType, nanobind::handle tensorType);

} // namespace mt::python
