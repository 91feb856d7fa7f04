// The lookback scan kernels (python/mini_triton/kernels/scan.py: one program per time chunk, carries passed
// between programs through epoch-tagged 64-bit words) as generated CUDA, run on the CPU under
// AddressSanitizer: forward and backward vs float64 for chunk geometries on one and several warps, and the
// state buffer they leave (every ticket taken once, every slot of the last chunks tagged with its epoch).
#include "ScanHostProblem.h"

using namespace mt;
using namespace mt::hostemu;

namespace {

TEST_F(CudaHostEmulation, LookbackScansMatchFloat64) {
  ScanProblem p(2, 45, 83, 505);
  struct Case {
    int64_t chunkT, chunkD, blockT, blockD;
    int warps;
  };
  const std::vector<Case> cases = {
      {7, 19, 8, 32, 4},     // strip layout over 4 warps: the carry broadcast through shared memory
      {16, 30, 16, 32, 1},   // one warp
      {3, 64, 4, 64, 2},     // 15 chunks in a chain, several column groups per warp
      {45, 83, 64, 128, 4}}; // one chunk: no carry passed
  extraFlags = kAsan;
  for (const Case &c : cases) {
    SCOPED_TRACE("chunk " + std::to_string(c.chunkT) + "x" + std::to_string(c.chunkD) + " warps " +
                 std::to_string(c.warps));
    int64_t nD = (p.D + c.chunkD - 1) / c.chunkD, nCols = p.B * nD, nChunks = (p.T + c.chunkT - 1) / c.chunkT;
    auto scalars = p.scalars();
    scalars["n_d"] = nD;
    scalars["n_cols"] = nCols;
    std::vector<ConstexprValue> cx = {true, std::string("fp32"), c.chunkT, c.chunkD, c.blockT, c.blockD};
    auto specs = [&](int ptrs, const std::vector<std::string> &ints) {
      std::vector<ArgSpec> s(size_t(ptrs), ArgSpec::pointer(DType::F32));
      s.push_back(ArgSpec::pointer(DType::I64)); // state_ptr
      for (const char *n : {"T", "D", "n_d", "n_cols"})
        s.push_back(ArgSpec::forInt(scalars.at(n)));
      for (size_t i = 2; i < ints.size(); ++i) // the strides
        s.push_back(ArgSpec::forInt(scalars.at(ints[i])));
      for (const ConstexprValue &v : cx)
        s.push_back(ArgSpec::constant(v));
      return s;
    };
    auto fwd = emitLibrary("scan.py", "rnn_scan_fwd_lookback_kernel", specs(4, kFwdInts), c.warps);
    auto bwd = emitLibrary("scan.py", "rnn_scan_bwd_lookback_kernel", specs(7, kBwdInts), c.warps);
    ASSERT_TRUE(fwd && bwd);
    unsigned grid = unsigned(nChunks * nCols);
    size_t stateWords = size_t(1 + nCols * 2 * c.blockD);

    std::vector<float> h(size_t(p.B * p.T * p.D), std::nanf(""));
    std::vector<int64_t> state(stateWords, 0);
    auto bx = bytesOf(p.x), ba = bytesOf(p.a), b0 = bytesOf(p.h0), bh = bytesOf(h), bst = bytesOf(state);
    ASSERT_TRUE(run(*fwd, grid, {&bx, &ba, &b0, &bh, &bst}, scalarsByName(*fwd, scalars)));
    expectForward(p, valuesOf<float>(bh));
    state = valuesOf<int64_t>(bst);
    EXPECT_EQ(state[0], int64_t(grid)) << "one ticket per program";
    // the second-to-last chunk published last, into slot (nChunks - 2) % 2, with epoch nChunks - 1
    if (nChunks > 1) {
      EXPECT_EQ(state[size_t(1 + ((nChunks - 2) % 2) * c.blockD)] >> 32, nChunks - 1);
    }

    std::vector<float> dx(size_t(p.B * p.T * p.D), std::nanf("")), da = dx,
                                                                   dh0(size_t(p.B * p.D), std::nanf(""));
    std::vector<int64_t> state2(stateWords, 0);
    auto bg = bytesOf(p.dout), bs = bytesOf(p.hSaved), bdx = bytesOf(dx), bda = bytesOf(da),
         bd0 = bytesOf(dh0), bst2 = bytesOf(state2);
    ASSERT_TRUE(run(*bwd, grid, {&bg, &ba, &bs, &b0, &bdx, &bda, &bd0, &bst2}, scalarsByName(*bwd, scalars)));
    expectBackward(p, valuesOf<float>(bdx), valuesOf<float>(bda), valuesOf<float>(bd0));
    EXPECT_EQ(valuesOf<int64_t>(bst2)[0], int64_t(grid));
  }
}

} // namespace
