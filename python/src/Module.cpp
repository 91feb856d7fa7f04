// mini_triton._C: the nanobind binding of mt::Context and mt::Kernel (include/mt/mt.h).
//
// The Python package (python/mini_triton) turns Triton's user API into these calls:
//
//   ctx = _C.Context()
//   k = ctx.compile(text, file_name, line_offset, function_name,
//                   [("ptr", "fp32", True), ("scalar", "i32"), ("constexpr", 1024)],
//                   helpers=[(text, file_name, line_offset)], globals={"BLOCK": 128},
//                   num_warps=4, num_stages=3)          # raises _C.CompilationError
//   k.launch((gx, gy, gz), (ptr_and_nbytes_tuple, 42, 1.5, None))  # raises _C.LaunchError
//
// The launch path converts its arguments without allocating Python objects and releases the GIL
// while the kernel runs.
#include "Classify.h"
#include "mt/mt.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <stdexcept>

namespace nb = nanobind;

namespace mt::python {
namespace {

/// Carries rendered diagnostics out of compile(); becomes mini_triton.CompilationError.
struct CompilationFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Carries a launch error out of launch(); becomes mini_triton.LaunchError (a RuntimeError).
struct LaunchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

DType dtypeFromString(const std::string &s) {
  std::optional<DType> d = ir::parseDType(s);
  if (!d)
    throw nb::value_error(("unknown dtype '" + s + "'").c_str());
  return *d;
}

/// A Python value (None, bool, int, float, str) as a compile-time value.
ConstexprValue toConstexpr(nb::handle h) {
  if (h.is_none())
    return std::monostate{};
  if (nb::isinstance<nb::bool_>(h))
    return nb::cast<bool>(h);
  if (nb::isinstance<nb::int_>(h))
    return nb::cast<int64_t>(h);
  if (nb::isinstance<nb::float_>(h))
    return nb::cast<double>(h);
  if (nb::isinstance<nb::str>(h))
    return nb::cast<std::string>(h);
  throw nb::type_error("a constexpr value must be None, bool, int, float or str");
}

/// One ArgSpec from a tuple: ("ptr", dtype[, aligned16]) | ("scalar", dtype[, div16[, equals_one]]) |
/// ("constexpr", value) | ("desc", dtype, aligned16, block_shape, nan_padding).
ArgSpec toArgSpec(nb::handle h) {
  nb::tuple t = nb::cast<nb::tuple>(h);
  if (t.size() < 2)
    throw nb::value_error("an arg spec is a tuple (kind, dtype-or-value, ...)");
  std::string kind = nb::cast<std::string>(t[0]);
  if (kind == "constexpr")
    return ArgSpec::constant(toConstexpr(t[1]));
  DType d = dtypeFromString(nb::cast<std::string>(t[1]));
  if (kind == "ptr")
    return ArgSpec::pointer(d, t.size() > 2 ? nb::cast<bool>(t[2]) : true);
  if (kind == "desc") { // ("desc", dtype, aligned16, [block dims], nan_padding): then 2 * rank scalar specs
    if (t.size() < 5)
      throw nb::value_error("a descriptor spec is (\"desc\", dtype, aligned16, block_shape, nan_padding)");
    return ArgSpec::tensorDesc(d, nb::cast<std::vector<int64_t>>(t[3]), nb::cast<bool>(t[4]),
                               nb::cast<bool>(t[2]));
  }
  if (kind == "scalar") {
    ArgSpec s = ArgSpec::scalar(d);
    s.divisibleBy16 = t.size() > 2 && nb::cast<bool>(t[2]);
    s.equalsOne = t.size() > 3 && nb::cast<bool>(t[3]);
    return s;
  }
  throw nb::value_error(("unknown arg spec kind '" + kind + "'").c_str());
}

/// One launch argument: (data_ptr, nbytes) tuple → Buffer, (device_ptr, nbytes, True) → Device,
/// int → Int, float → Float, None → Null.
LaunchArg toLaunchArg(PyObject *o) {
  if (PyTuple_CheckExact(o) && PyTuple_GET_SIZE(o) == 3) {
    unsigned long long p = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o, 0));
    size_t n = PyLong_AsSize_t(PyTuple_GET_ITEM(o, 1));
    if (PyErr_Occurred())
      throw nb::python_error();
    return LaunchArg::device(p, n);
  }
  if (PyTuple_CheckExact(o) && PyTuple_GET_SIZE(o) == 2) {
    void *p = PyLong_AsVoidPtr(PyTuple_GET_ITEM(o, 0));
    size_t n = PyLong_AsSize_t(PyTuple_GET_ITEM(o, 1));
    if (PyErr_Occurred())
      throw nb::python_error();
    return LaunchArg::buffer(p, n);
  }
  if (PyLong_Check(o)) { // also bool
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
      unsigned long long u = PyLong_AsUnsignedLongLong(o); // uint64 values above INT64_MAX
      if (PyErr_Occurred())
        throw nb::python_error();
      v = static_cast<long long>(u);
    }
    return LaunchArg::integer(v);
  }
  if (PyFloat_Check(o))
    return LaunchArg::floating(PyFloat_AS_DOUBLE(o));
  if (o == Py_None)
    return LaunchArg::null();
  throw nb::type_error("a launch argument must be (data_ptr, nbytes), int, float or None");
}

class PyKernel {
public:
  PyKernel(std::shared_ptr<const Kernel> k, int numWarps, int numStages)
      : kernel_(std::move(k)), numWarps_(numWarps), numStages_(numStages) {}

  void launch(nb::handle grid, nb::handle args, uintptr_t stream) const {
    Grid g;
    if (!PyTuple_Check(grid.ptr()) || PyTuple_GET_SIZE(grid.ptr()) != 3)
      throw nb::type_error("grid must be a tuple of 3 ints");
    uint32_t *dims[3] = {&g.x, &g.y, &g.z};
    for (int i = 0; i < 3; ++i) {
      long v = PyLong_AsLong(PyTuple_GET_ITEM(grid.ptr(), i));
      if (v == -1 && PyErr_Occurred())
        throw nb::python_error();
      if (v < 0 || v > 0xffffffffL)
        throw nb::value_error("grid dimensions must be in [0, 2^32)");
      *dims[i] = static_cast<uint32_t>(v);
    }
    if (g.x == 0 || g.y == 0 || g.z == 0)
      return; // an empty grid runs nothing, as in Triton

    PyObject *seq = args.ptr();
    if (!PyTuple_Check(seq) && !PyList_Check(seq))
      throw nb::type_error("launch arguments must be a tuple or a list");
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    constexpr Py_ssize_t kInline = 32;
    LaunchArg inlineArgs[kInline];
    std::vector<LaunchArg> heapArgs;
    LaunchArg *out = inlineArgs;
    if (n > kInline) {
      heapArgs.resize(n);
      out = heapArgs.data();
    }
    for (Py_ssize_t i = 0; i < n; ++i)
      out[i] = toLaunchArg(items[i]);

    Status st;
    {
      nb::gil_scoped_release release;
      st = kernel_->launchOnStream(reinterpret_cast<void *>(stream), g,
                                   std::span<const LaunchArg>(out, static_cast<size_t>(n)));
    }
    if (!st)
      throw LaunchFailure(st.error().message);
  }

  const std::string &name() const { return kernel_->name(); }
  std::string irText() const { return kernel_->irText(); }
  const std::vector<std::string> &runtimeParams() const { return kernel_->runtimeParams(); }
  KernelInfo info() const { return kernel_->info(); }
  /// Triton's CompiledKernel.metadata: name, num_warps, num_stages, shared (bytes per program), target.
  nb::object metadata() const {
    KernelInfo i = kernel_->info();
    nb::object ns = nb::module_::import_("types").attr("SimpleNamespace")();
    ns.attr("name") = nb::str(kernel_->name().c_str());
    ns.attr("num_warps") = nb::int_(numWarps_);
    ns.attr("num_stages") = nb::int_(numStages_);
    ns.attr("num_ctas") = nb::int_(1);
    ns.attr("shared") = nb::int_(i.sharedBytes);
    ns.attr("target") = nb::str(i.gpu ? "cuda" : "cpu");
    return ns;
  }

private:
  std::shared_ptr<const Kernel> kernel_;
  int numWarps_, numStages_;
};

PyKernel compile(Context &ctx, std::string text, std::string fileName, uint32_t lineOffset,
                 std::string functionName, nb::list specs, nb::list helpers, nb::dict globals, int numWarps,
                 int numStages, bool optimize, std::vector<std::string> passes, const std::string &target) {
  KernelSource src;
  src.text = std::move(text);
  src.fileName = std::move(fileName);
  src.lineOffset = lineOffset;
  src.functionName = std::move(functionName);
  for (nb::handle h : helpers) {
    nb::tuple t = nb::cast<nb::tuple>(h);
    if (t.size() != 3)
      throw nb::value_error("a helper is a tuple (text, file_name, line_offset)");
    src.helpers.push_back(
        {nb::cast<std::string>(t[0]), nb::cast<std::string>(t[1]), nb::cast<uint32_t>(t[2])});
  }
  for (auto [k, v] : globals)
    src.globals[nb::cast<std::string>(k)] = toConstexpr(v);
  std::vector<ArgSpec> args;
  for (nb::handle h : specs)
    args.push_back(toArgSpec(h));
  CompileOptions opts;
  opts.numWarps = numWarps;
  opts.numStages = numStages;
  opts.optimize = optimize;
  opts.passes = std::move(passes);
  if (target == "cuda")
    opts.target = Target::Cuda;
  else if (target != "cpu")
    throw nb::value_error(("unknown target '" + target + "' (expected 'cpu' or 'cuda')").c_str());

  Expected<std::shared_ptr<const Kernel>> k = [&] {
    nb::gil_scoped_release release;
    return ctx.compile(src, args, opts);
  }();
  if (!k)
    throw CompilationFailure(k.error().message);
  return PyKernel(*k, numWarps, numStages);
}

/// The data pointer of an object exporting the buffer protocol (a NumPy array, strided or not), or None
/// when it exports none. Much cheaper than `a.__array_interface__` or `a.ctypes.data` on the launch path.
nb::object dataPtr(nb::handle h) {
  if (!PyObject_CheckBuffer(h.ptr()))
    return nb::none();
  Py_buffer view;
  if (PyObject_GetBuffer(h.ptr(), &view, PyBUF_STRIDES) != 0) {
    PyErr_Clear();
    return nb::none();
  }
  void *p = view.buf;
  PyBuffer_Release(&view);
  return nb::steal(PyLong_FromVoidPtr(p));
}

} // namespace
} // namespace mt::python

NB_MODULE(_C, m) {
  using namespace mt::python;
  m.doc() = "mini-triton's C++ compiler and CPU runtime (see include/mt/mt.h)";

  nb::exception<CompilationFailure>(m, "CompilationError", PyExc_Exception);
  nb::exception<LaunchFailure>(m, "LaunchError", PyExc_RuntimeError);

  m.def("data_ptr", &dataPtr, nb::arg("obj"),
        "Data pointer of a buffer-protocol object (NumPy array), or None if it exports no buffer");

  m.def(
      "cuda_available",
      []() {
        std::string why;
        bool ok = mt::cudaAvailable(&why);
        return nb::make_tuple(ok, why);
      },
      "(True, '') when libcuda loads and a CUDA device exists, else (False, reason)");

  m.def("classify", &classify, nb::arg("bound"), nb::arg("kinds"), nb::arg("ptr_keys"),
        nb::arg("ndarray_type"), nb::arg("tensor_type").none(),
        "Fast path of argument classification: (key parts, launch args) or None (see Classify.h)");
  m.def("set_constexpr_types", &setConstexprTypes, nb::arg("types"),
        "Types whose instances classify() takes as constexpr values (immutable, hashed by value)");

  nb::class_<PyKernel>(m, "Kernel")
      .def("launch", &PyKernel::launch, nb::arg("grid"), nb::arg("args"), nb::arg("stream") = 0,
           "Runs the grid (a tuple of 3 ints); args: (data_ptr, nbytes) | (device_ptr, nbytes, True) | int | "
           "float | None per runtime parameter; stream: a CUstream for GPU kernels (0: the default stream)")
      .def_prop_ro("name", &PyKernel::name)
      .def_prop_ro("ir", &PyKernel::irText)
      .def_prop_ro(
          "asm",
          [](const PyKernel &k) {
            nb::dict d;
            d["ttir"] = k.irText(); // Triton's name for the tile IR stage
            return d;
          },
          "Triton-style {stage: text}; only 'ttir' (the optimised tile IR) exists")
      .def_prop_ro("runtime_params", &PyKernel::runtimeParams)
      .def_prop_ro(
          "n_regs", [](const PyKernel &k) { return k.info().numRegs; },
          "Registers per thread (GPU kernels, from the driver; 0 for CPU kernels)")
      .def_prop_ro(
          "n_spills", [](const PyKernel &k) { return k.info().numSpills; },
          "4-byte words of local memory per thread (spills; GPU kernels)")
      .def_prop_ro(
          "n_max_threads", [](const PyKernel &k) { return k.info().numThreads; }, "Threads per program (GPU)")
      .def_prop_ro(
          "metadata", &PyKernel::metadata,
          "name, num_warps, num_stages, num_ctas, shared (bytes per program), target ('cuda' or 'cpu')")
      .def(
          "_init_handles", [](const PyKernel &) {},
          "Triton loads a kernel lazily; ours is loaded when compiled");

  nb::class_<mt::Context>(m, "Context")
      .def(
          "__init__",
          [](mt::Context *self, unsigned numThreads) {
            mt::ContextOptions o;
            o.numThreads = numThreads;
            new (self) mt::Context(o);
          },
          nb::arg("num_threads") = 0)
      .def("compile", &compile, nb::arg("text"), nb::arg("file_name"), nb::arg("line_offset"),
           nb::arg("function_name"), nb::arg("arg_specs"), nb::arg("helpers") = nb::list(),
           nb::arg("globals") = nb::dict(), nb::arg("num_warps") = 4, nb::arg("num_stages") = 3,
           nb::arg("optimize") = true, nb::arg("passes") = std::vector<std::string>(),
           nb::arg("target") = "cpu", nb::keep_alive<0, 1>())
      .def_prop_ro("num_compilations", &mt::Context::numCompilations);
}
