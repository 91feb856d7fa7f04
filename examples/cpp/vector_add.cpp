// Compiles examples/kernels/vector_add.py with the mini-triton C++ API, launches it on the CPU
// interpreter and checks the result.
//
//   vector_add [path/to/vector_add.py] [n]
#include "mt/mt.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#ifndef MT_SOURCE_DIR
#define MT_SOURCE_DIR "."
#endif

int main(int argc, char **argv) {
  std::string path = argc > 1 ? argv[1] : std::string(MT_SOURCE_DIR) + "/examples/kernels/vector_add.py";
  int64_t n = argc > 2 ? std::atoll(argv[2]) : 98432;
  const int64_t block = 1024;

  auto src = mt::KernelSource::fromFile(path, "add_kernel");
  if (!src) {
    std::fprintf(stderr, "%s\n", src.error().message.c_str());
    return 1;
  }
  mt::Context ctx;
  auto kernel = ctx.compile(*src, {mt::ArgSpec::pointer(mt::DType::F32), mt::ArgSpec::pointer(mt::DType::F32),
                                   mt::ArgSpec::pointer(mt::DType::F32), mt::ArgSpec::forInt(n),
                                   mt::ArgSpec::constant(block)});
  if (!kernel) {
    std::fprintf(stderr, "%s\n", kernel.error().message.c_str());
    return 1;
  }

  std::mt19937 gen(0);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(n), y(n), out(n, NAN);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = dist(gen);
    y[i] = dist(gen);
  }
  std::vector<mt::LaunchArg> args = {
      mt::LaunchArg::buffer(x.data(), x.size()), mt::LaunchArg::buffer(y.data(), y.size()),
      mt::LaunchArg::buffer(out.data(), out.size()), mt::LaunchArg::integer(n)};
  mt::Grid grid{static_cast<uint32_t>((n + block - 1) / block)};
  if (mt::Status st = (*kernel)->launch(grid, args); !st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }

  double maxErr = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double err = std::abs(static_cast<double>(out[i]) - (static_cast<double>(x[i]) + y[i]));
    maxErr = std::isnan(out[i]) ? INFINITY : std::max(maxErr, err);
  }
  std::printf("vector_add n=%lld: max abs error %g\n", static_cast<long long>(n), maxErr);
  return maxErr <= 1e-6 ? 0 : 1;
}
