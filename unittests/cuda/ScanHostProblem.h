// Shared by the host-emulation tests of the scan kernels (PrefetchHostTest.cpp, StripHostTest.cpp): a
// (B, T, D) linear-recurrence problem with float64 checks of the forward and backward kernels' outputs.
#pragma once

#include "HostEmulation.h"

namespace mt::hostemu {
// ---- Loads one iteration ahead (EmitPipeline.cpp) --------------------------------------------------------
// The library's scan kernels (python/mini_triton/kernels/scan.py) with their loop loads prefetched, built
// with AddressSanitizer: a prefetch past the last iteration, or outside a mask, reads outside the exact-size
// buffers and fails the run. Odd sizes: masked columns, a partial last chunk, a padded row stride for `a`.

/// AddressSanitizer, with libstdc++'s vector annotations: the harness reads buffers into vectors whose
/// capacity may exceed their size.
inline const char *const kAsan = "-fsanitize=address -D_GLIBCXX_SANITIZE_VECTOR";

/// (B, T, D) inputs: x, dout and h contiguous, a with a padded row stride, h0 of (B, D); values in f32.
struct ScanProblem {
  int64_t B, T, D, aRow;
  std::vector<float> x, a, h0, dout, hSaved;
  ScanProblem(int64_t b, int64_t t, int64_t d, unsigned seed) : B(b), T(t), D(d), aRow(d + 3) {
    x = randomFloats(size_t(B * T * D), seed);
    dout = randomFloats(size_t(B * T * D), seed + 1);
    hSaved = randomFloats(size_t(B * T * D), seed + 2);
    h0 = randomFloats(size_t(B * D), seed + 3);
    a = randomFloats(size_t(B * T * aRow), seed + 4);
    for (float &v : a)
      v = 0.775f + v / 12.0f; // in (0.525, 1.025)
  }
  double X(int64_t b, int64_t t, int64_t d) const { return x[size_t((b * T + t) * D + d)]; }
  double A(int64_t b, int64_t t, int64_t d) const { return a[size_t((b * T + t) * aRow + d)]; }
  double G(int64_t b, int64_t t, int64_t d) const { return dout[size_t((b * T + t) * D + d)]; }
  double H(int64_t b, int64_t t, int64_t d) const { return hSaved[size_t((b * T + t) * D + d)]; }
  /// The kernels' integer arguments (forward and backward names).
  std::map<std::string, int64_t> scalars() const {
    return {{"T", T},
            {"D", D},
            {"stride_xb", T * D},
            {"stride_xt", D},
            {"stride_xd", 1},
            {"stride_gb", T * D},
            {"stride_gt", D},
            {"stride_gd", 1},
            {"stride_ab", T * aRow},
            {"stride_at", aRow},
            {"stride_ad", 1},
            {"stride_h0b", D},
            {"stride_h0d", 1}};
  }
  /// ArgSpecs: `ptrs` f32 pointers, then T, D and `strides` integer strides as in scalars(), then constexprs.
  std::vector<ArgSpec> specs(int ptrs, const std::vector<std::string> &ints,
                             const std::vector<ConstexprValue> &constexprs) const {
    std::vector<ArgSpec> s(size_t(ptrs), ArgSpec::pointer(DType::F32));
    auto v = scalars();
    for (const std::string &n : ints)
      s.push_back(ArgSpec::forInt(v.at(n)));
    for (const ConstexprValue &c : constexprs)
      s.push_back(ArgSpec::constant(c));
    return s;
  }
};

inline const std::vector<std::string> kFwdInts = {"T",         "D",         "stride_xb", "stride_xt",  "stride_xd",
                                           "stride_ab", "stride_at", "stride_ad", "stride_h0b", "stride_h0d"};
inline const std::vector<std::string> kBwdInts = {"T",         "D",         "stride_gb", "stride_gt",  "stride_gd",
                                           "stride_ab", "stride_at", "stride_ad", "stride_h0b", "stride_h0d"};

/// Loads prefetched (their first registers, `vN_pf[` or `vN_pf0[`) and how many iterations ahead.
struct Prefetched {
  size_t loads = 0, depth = 0;
};
inline Prefetched prefetchedIn(const std::string &src) {
  Prefetched r;
  std::istringstream in(src);
  size_t regs = 0;
  for (std::string l; std::getline(in, l);) {
    if (l.find("// prefetched loads") == std::string::npos)
      continue;
    ++regs;
    r.loads += l.find("_pf[") != std::string::npos || l.find("_pf0[") != std::string::npos;
  }
  r.depth = r.loads ? regs / r.loads : 0;
  return r;
}

/// Checks the forward states h (B, T, D) against h_t = a_t h_{t-1} + x_t from h0.
inline void expectForward(const ScanProblem &p, const std::vector<float> &h) {
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t d = 0; d < p.D; ++d) {
      double ref = p.h0[size_t(b * p.D + d)];
      for (int64_t t = 0; t < p.T; ++t) {
        ref = p.A(b, t, d) * ref + p.X(b, t, d);
        ASSERT_NEAR(h[size_t((b * p.T + t) * p.D + d)], ref, 2e-5 * (1.0 + std::fabs(ref)))
            << "b " << b << " t " << t << " d " << d;
      }
    }
}

/// Checks dx, da (B, T, D) and dh0 (B, D) of the backward recurrence (see scan.py).
inline void expectBackward(const ScanProblem &p, const std::vector<float> &dx, const std::vector<float> &da,
                    const std::vector<float> &dh0) {
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t d = 0; d < p.D; ++d) {
      double g = 0.0; // a_{t+1} dh_{t+1}
      for (int64_t t = p.T - 1; t >= 0; --t) {
        double dh = p.G(b, t, d) + g;
        double hPrev = t > 0 ? p.H(b, t - 1, d) : p.h0[size_t(b * p.D + d)];
        size_t at = size_t((b * p.T + t) * p.D + d);
        ASSERT_NEAR(dx[at], dh, 2e-5 * (1.0 + std::fabs(dh))) << "dx b " << b << " t " << t << " d " << d;
        ASSERT_NEAR(da[at], dh * hPrev, 2e-5 * (1.0 + std::fabs(dh * hPrev)))
            << "da b " << b << " t " << t << " d " << d;
        g = p.A(b, t, d) * dh;
      }
      ASSERT_NEAR(dh0[size_t(b * p.D + d)], g, 2e-5 * (1.0 + std::fabs(g))) << "dh0 b " << b << " d " << d;
    }
}

} // namespace mt::hostemu
