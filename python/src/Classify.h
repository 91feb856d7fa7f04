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

/// Registers the types (a tuple) whose instances classify() takes as constexpr values beside None, bool, int,
/// float and str: immutable, with value equality and hashing (mini_triton.language.dtype).
void setConstexprTypes(nanobind::handle types);

} // namespace mt::python
