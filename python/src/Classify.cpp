// The launch path's argument classifier: kernel arguments → (specialisation key parts, launch arguments).
//
// mini_triton/jit.py calls `classify` on every launch. It handles the common argument types (NumPy arrays
// that own their data, CPU and CUDA torch tensors and their subclasses such as nn.Parameter, Python
// ints/floats/bools/None, constexpr ints/floats/bools/strs and tl.dtype values) without running Python
// bytecode, and returns None for anything else, which jit.py then classifies in Python (views, NumPy
// scalars, errors). The key parts only need to be consistent with themselves: jit.py maps a miss to the
// Python key, which is the one compilation is driven from.
#include "Classify.h"

#include <cstdint>

namespace nb = nanobind;

namespace mt::python {
namespace {

/// Interned key strings, created once and never freed (they outlive the interpreter's module teardown).
struct KeyStrings {
  PyObject *i32, *i32d16, *i32one, *i64, *i64d16, *u64, *u64d16, *f32, *i1, *none;
  PyObject *dataPtr, *untypedStorage, *nbytes, *isCuda, *dtype, *base;
};

const KeyStrings &keys() {
  static const KeyStrings k = {
      PyUnicode_InternFromString("i32"),      PyUnicode_InternFromString("i32:16"),
      PyUnicode_InternFromString("i32:1"),    PyUnicode_InternFromString("i64"),
      PyUnicode_InternFromString("i64:16"),   PyUnicode_InternFromString("u64"),
      PyUnicode_InternFromString("u64:16"),   PyUnicode_InternFromString("f32"),
      PyUnicode_InternFromString("i1"),       PyUnicode_InternFromString("None"),
      PyUnicode_InternFromString("data_ptr"), PyUnicode_InternFromString("untyped_storage"),
      PyUnicode_InternFromString("nbytes"),   PyUnicode_InternFromString("is_cuda"),
      PyUnicode_InternFromString("dtype"),    PyUnicode_InternFromString("base"),
  };
  return k;
}

/// Owned reference helper: steals `o`, decrefs on scope exit.
struct Ref {
  PyObject *o;
  explicit Ref(PyObject *p) : o(p) {}
  ~Ref() { Py_XDECREF(o); }
  Ref(const Ref &) = delete;
  Ref &operator=(const Ref &) = delete;
};

/// Key part of a Python int argument, or null (with no Python error set) if it does not fit 64 bits.
PyObject *intKey(PyObject *a, bool specialise, PyObject *launch) {
  const KeyStrings &k = keys();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(a, &overflow);
  if (overflow > 0) {
    unsigned long long u = PyLong_AsUnsignedLongLong(a);
    if (PyErr_Occurred()) {
      PyErr_Clear();
      return nullptr;
    }
    if (PyList_Append(launch, a) != 0)
      return nullptr;
    return specialise && u % 16 == 0 ? k.u64d16 : k.u64;
  }
  if (overflow < 0)
    return nullptr;
  if (PyList_Append(launch, a) != 0)
    return nullptr;
  bool i32 = v >= INT32_MIN && v <= INT32_MAX;
  if (!specialise)
    return i32 ? k.i32 : k.i64;
  if (v == 1)
    return k.i32one;
  if (v % 16 == 0)
    return i32 ? k.i32d16 : k.i64d16;
  return i32 ? k.i32 : k.i64;
}

/// Appends the (data pointer, nbytes) of a NumPy array that owns its data; returns its key part, or
/// null if the array needs the Python path (a view, an unknown dtype, no buffer).
PyObject *ndarrayKey(PyObject *a, PyObject *ptrKeys, PyObject *launch) {
  const KeyStrings &k = keys();
  Ref base(PyObject_GetAttr(a, k.base));
  if (!base.o || base.o != Py_None) {
    PyErr_Clear();
    return nullptr;
  }
  Ref dtype(PyObject_GetAttr(a, k.dtype));
  if (!dtype.o) {
    PyErr_Clear();
    return nullptr;
  }
  PyObject *pair = PyDict_GetItemWithError(ptrKeys, dtype.o); // borrowed
  if (!pair || !PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) < 2) {
    PyErr_Clear();
    return nullptr;
  }
  Py_buffer view;
  if (PyObject_GetBuffer(a, &view, PyBUF_STRIDES) != 0) {
    PyErr_Clear();
    return nullptr;
  }
  void *ptr = view.buf;
  Py_ssize_t len = view.len;
  PyBuffer_Release(&view);
  Ref item(Py_BuildValue("(Nn)", PyLong_FromVoidPtr(ptr), len));
  if (!item.o || PyList_Append(launch, item.o) != 0)
    return nullptr;
  return PyTuple_GET_ITEM(pair, (reinterpret_cast<uintptr_t>(ptr) % 16 == 0) ? 0 : 1);
}

/// Same for a torch tensor (anything with data_ptr(), untyped_storage(), dtype and is_cuda): the span runs
/// from the tensor's data pointer to the end of its storage. A CUDA tensor gives (ptr, span, True) (a
/// Device argument) and key parts 2/3 of `ptr_keys[dtype]` (which jit.py fills with 4 entries).
PyObject *tensorKey(PyObject *a, PyObject *ptrKeys, PyObject *launch) {
  const KeyStrings &k = keys();
  Ref isCudaObj(PyObject_GetAttr(a, k.isCuda));
  if (!isCudaObj.o || (isCudaObj.o != Py_False && isCudaObj.o != Py_True)) {
    PyErr_Clear();
    return nullptr;
  }
  bool isCuda = isCudaObj.o == Py_True;
  Ref dtype(PyObject_GetAttr(a, k.dtype));
  if (!dtype.o) {
    PyErr_Clear();
    return nullptr;
  }
  PyObject *pair = PyDict_GetItemWithError(ptrKeys, dtype.o);
  if (!pair || !PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 4) {
    PyErr_Clear();
    return nullptr;
  }
  Ref ptrObj(PyObject_CallMethodNoArgs(a, k.dataPtr));
  if (!ptrObj.o) {
    PyErr_Clear();
    return nullptr;
  }
  unsigned long long ptr = PyLong_AsUnsignedLongLong(ptrObj.o);
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return nullptr;
  }
  if (isCuda) {
    // GPU launches are not bounds-checked, so the storage's extent is not needed: skip the two
    // Python calls (untyped_storage() builds an object) that finding it costs.
    Ref item(Py_BuildValue("(OLO)", ptrObj.o, 0LL, Py_True));
    if (!item.o || PyList_Append(launch, item.o) != 0)
      return nullptr;
    return PyTuple_GET_ITEM(pair, 2 + (ptr % 16 == 0 ? 0 : 1));
  }
  Ref storage(PyObject_CallMethodNoArgs(a, k.untypedStorage));
  if (!storage.o) {
    PyErr_Clear();
    return nullptr;
  }
  Ref sptrObj(PyObject_CallMethodNoArgs(storage.o, k.dataPtr));
  Ref snbytesObj(PyObject_CallMethodNoArgs(storage.o, k.nbytes));
  if (!sptrObj.o || !snbytesObj.o) {
    PyErr_Clear();
    return nullptr;
  }
  unsigned long long sptr = PyLong_AsUnsignedLongLong(sptrObj.o);
  long long snbytes = PyLong_AsLongLong(snbytesObj.o);
  if (PyErr_Occurred()) {
    PyErr_Clear();
    return nullptr;
  }
  unsigned long long end = sptr + static_cast<unsigned long long>(snbytes);
  long long span = end > ptr ? static_cast<long long>(end - ptr) : 0;
  Ref item(Py_BuildValue("(OL)", ptrObj.o, span));
  if (!item.o || PyList_Append(launch, item.o) != 0)
    return nullptr;
  return PyTuple_GET_ITEM(pair, ptr % 16 == 0 ? 0 : 1);
}

/// The tuple of setConstexprTypes (a new reference kept for the process's life, as the key strings), or null.
PyObject *constexprTypes = nullptr;

/// Key part (new reference) of a constexpr value: (type, value) for None/bool/int/float/str and instances of
/// the registered constexpr types (tl.float32 and the other dtypes: without them every launch of a kernel
/// with a dtype argument took the Python path), else null.
PyObject *constexprKey(PyObject *a) {
  if (a == Py_None) {
    Py_INCREF(keys().none);
    return keys().none;
  }
  PyTypeObject *t = Py_TYPE(a);
  if (t != &PyLong_Type && t != &PyBool_Type && t != &PyFloat_Type && t != &PyUnicode_Type) {
    int registered = constexprTypes ? PyObject_IsInstance(a, constexprTypes) : 0;
    if (registered < 0)
      PyErr_Clear(); // an isinstance that raised: the Python path classifies (and reports) the argument
    if (registered != 1)
      return nullptr;
  }
  return PyTuple_Pack(2, reinterpret_cast<PyObject *>(t), a);
}

} // namespace

void setConstexprTypes(nb::handle types) {
  if (!PyTuple_Check(types.ptr()))
    throw nb::type_error("set_constexpr_types(types: tuple)");
  Py_INCREF(types.ptr());
  PyObject *old = constexprTypes;
  constexprTypes = types.ptr();
  Py_XDECREF(old);
}

nb::object classify(nb::handle bound, nb::handle kinds, nb::handle ptrKeys, nb::handle ndarrayType,
                    nb::handle tensorType) {
  PyObject *seq = bound.ptr();
  if (!PyTuple_Check(seq) && !PyList_Check(seq))
    return nb::none();
  if (!PyBytes_Check(kinds.ptr()) || !PyDict_Check(ptrKeys.ptr()))
    throw nb::type_error("classify(bound, kinds: bytes, ptr_keys: dict, ndarray_type, tensor_type)");
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  if (PyBytes_GET_SIZE(kinds.ptr()) != n)
    return nb::none();
  const char *kind = PyBytes_AS_STRING(kinds.ptr());
  PyObject **items = PySequence_Fast_ITEMS(seq);
  const KeyStrings &k = keys();

  Ref keyTuple(PyTuple_New(n));
  Ref launch(PyList_New(0));
  if (!keyTuple.o || !launch.o)
    throw nb::python_error();
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject *a = items[i];
    PyObject *part = nullptr; // new reference
    if (kind[i] == 'c') {
      part = constexprKey(a);
    } else {
      PyTypeObject *t = Py_TYPE(a);
      PyObject *borrowed = nullptr;
      if (t == reinterpret_cast<PyTypeObject *>(ndarrayType.ptr()))
        borrowed = ndarrayKey(a, ptrKeys.ptr(), launch.o);
      else if (t == &PyLong_Type)
        borrowed = intKey(a, kind[i] == 's', launch.o);
      else if (t == &PyFloat_Type)
        borrowed = PyList_Append(launch.o, a) == 0 ? k.f32 : nullptr;
      else if (t == &PyBool_Type)
        borrowed = PyList_Append(launch.o, a) == 0 ? k.i1 : nullptr;
      else if (a == Py_None)
        borrowed = k.none;
      else if (!tensorType.is_none() && PyType_Check(tensorType.ptr()) &&
               PyType_IsSubtype(t, reinterpret_cast<PyTypeObject *>(tensorType.ptr())))
        borrowed = tensorKey(a, ptrKeys.ptr(), launch.o); // subclasses too: nn.Parameter (model weights)
      if (borrowed) {
        Py_INCREF(borrowed);
        part = borrowed;
      }
    }
    if (!part) {
      PyErr_Clear();
      return nb::none();
    }
    PyTuple_SET_ITEM(keyTuple.o, i, part);
  }
  nb::object result = nb::steal(PyTuple_Pack(2, keyTuple.o, launch.o));
  if (!result.is_valid())
    throw nb::python_error();
  return result;
}

} // namespace mt::python
