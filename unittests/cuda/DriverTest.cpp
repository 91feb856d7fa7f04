// The run-time-loaded CUDA pieces without a GPU: Driver::get() fails cleanly where libcuda or a device
// is missing, the compute-capability -> arch mapping, and NVRTC's error path.
#include "backend/cuda/Driver.h"
#include "backend/cuda/Nvrtc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using namespace mt;

TEST(CudaDriver, GetWithoutGpuReturnsNullWithReason) {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (drv)
    GTEST_SKIP() << "a GPU is present (" << drv->deviceCount() << " devices)";
  EXPECT_FALSE(why.empty());
  // Asking again gives the same answer (the library is loaded once per process).
  std::string again;
  EXPECT_EQ(cuda::Driver::get(&again), nullptr);
  EXPECT_EQ(why, again);
}

TEST(CudaDriver, DeviceInfoWhenAGpuExists) {
  std::string why;
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv)
    GTEST_SKIP() << "no GPU: " << why;
  auto info = drv->deviceInfo(0);
  ASSERT_TRUE(bool(info)) << info.error();
  EXPECT_GE(info->major, 7);
  EXPECT_GT(info->multiprocessors, 0);
  EXPECT_FALSE(info->name.empty());
  EXPECT_EQ(info->arch().rfind("sm_", 0), 0u);
}

TEST(CudaDriver, ArchForComputeCapability) {
  EXPECT_EQ(cuda::archForComputeCapability(9, 0), "sm_90a");
  EXPECT_EQ(cuda::archForComputeCapability(8, 0), "sm_80");
  EXPECT_EQ(cuda::archForComputeCapability(8, 6), "sm_86");
  EXPECT_EQ(cuda::archForComputeCapability(8, 9), "sm_89");
  EXPECT_EQ(cuda::archForComputeCapability(10, 0), "sm_100a");
  EXPECT_EQ(cuda::archForComputeCapability(12, 0), "sm_120");
}

TEST(CudaNvrtc, DeviceHeadersAreEmbedded) {
  const auto &headers = cuda::deviceHeaders();
  std::set<std::string> names;
  for (const auto &[name, text] : headers) {
    names.insert(name);
    EXPECT_NE(text.find("#pragma once"), std::string::npos) << name;
  }
  for (const char *n : {"mt/kernel.cuh", "mt/types.cuh", "mt/math.cuh", "mt/memory.cuh", "mt/debug.cuh"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(CudaNvrtc, CompileErrorCarriesLogAndSavedSource) {
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  auto [major, minor] = cuda::nvrtcVersion();
  EXPECT_GE(major, 11);
  std::string dir = (std::filesystem::temp_directory_path() / "mt_nvrtc_test").string();
  std::string src =
      "#include \"mt/kernel.cuh\"\nextern \"C\" __global__ void k(float *p) { *p = undefined_name; }\n";
  cuda::NvrtcOptions opts;
  opts.dumpDir = dir;
  auto r = cuda::compileCuda(src, "broken.cu", "sm_80", opts);
  ASSERT_FALSE(bool(r));
  const std::string &msg = r.error().message;
  EXPECT_NE(msg.find("undefined_name"), std::string::npos) << msg; // NVRTC's log
  size_t at = msg.find(dir);
  ASSERT_NE(at, std::string::npos) << msg;
  std::string path = msg.substr(at, msg.find('\n', at) - at);
  std::ifstream in(path);
  std::stringstream saved;
  saved << in.rdbuf();
  EXPECT_EQ(saved.str(), src) << path;
  std::filesystem::remove_all(dir);
}

TEST(CudaNvrtc, CompilesAHelperKernel) {
  std::string why;
  if (!cuda::nvrtcAvailable(&why))
    GTEST_SKIP() << "NVRTC unavailable: " << why;
  // Every device helper instantiated for the 16-bit float types (the riskiest ones).
  std::string src = R"(#include "mt/kernel.cuh"
extern "C" __global__ void k(mt::f16 *h, mt::bf16 *b, mt::i16 *s) {
  mt::f16 x = mt::fma(h[0], h[1], mt::exp(h[2]));
  mt::bf16 y = mt::cvt<mt::bf16>(mt::max(mt::cvt<mt::f32>(x), 1.0f));
  mt::atomicRmw<mt::Rmw::Max>(h, x);
  mt::atomicRmw<mt::Rmw::Add>(b, y);
  mt::atomicRmw<mt::Rmw::Xor>(s, mt::i16(3));
  mt::atomicCas(s + 1, mt::i16(0), mt::i16(1));
  if (mt::lt(x, h[3])) mt::printValue("x=", 0, x);
  s[2] = mt::add(mt::cvt<mt::i16>(mt::mul(mt::i8(100), mt::i8(3))), mt::cvt<mt::i16>(mt::neg(mt::u16(1))));
  s[3] = mt::shr(mt::shl(s[2], mt::i16(3)), mt::i16(1));
}
)";
  auto r = cuda::compileCuda(src, "helpers.cu", "sm_90a");
  EXPECT_TRUE(bool(r)) << (r ? "" : r.error().message);
}
