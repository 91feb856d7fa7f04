// The CUDA emitter on kernels built with ir::Builder: the source has the expected signature and
// layout, and NVRTC compiles it for sm_80 and sm_90a (skipped when NVRTC cannot be loaded). No GPU
// is needed; running the kernels is scripts/device_check.sh's job.
#include "backend/cuda/Emitter.h"
#include "backend/cuda/Driver.h"
#include "backend/cuda/Launch.h"
#include "backend/cuda/Nvrtc.h"
#include "ir/Builder.h"
#include "ir/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mt;
using namespace mt::ir;

namespace {

class CudaEmitterTest : public ::testing::Test {
protected:
  TypeContext tc;
  Module m{tc};
  Builder b{tc};
  SourceManager sources;
  Diagnostics diag{&sources};
  cuda::CudaKernel kernel; // the last one emitAndCompile made

  const Type *f32() { return tc.scalar(DType::F32); }
  const Type *i32() { return tc.scalar(DType::I32); }

  Function *begin(const std::string &name, std::vector<std::pair<std::string, const Type *>> params) {
    Function *f = m.addFunction(name, {});
    for (auto &[n, t] : params) {
      f->body().addArgument(t);
      f->argNames().push_back(n);
    }
    b.setInsertionPointToEnd(f->body());
    return f;
  }
  void end() { b.create(OpKind::Return, {}, {}); }

  /// ptr + offs, with the pointer splatted to the offsets' shape.
  Value *ptrs(Value *ptr, Value *offs) {
    Value *p = b.broadcastTo(ptr, offs->type()->shape());
    return b.create1(OpKind::AddPtr, {p, offs}, p->type());
  }

  /// A reduce over `axis` of `x` with combine `kind` (add / max).
  Value *reduce(Value *x, int64_t axis, OpKind kind) {
    std::vector<int64_t> shape = x->type()->shape();
    shape.erase(shape.begin() + axis);
    const Type *rt = tc.shaped(x->type()->element(), shape);
    Operation *op = b.create(OpKind::Reduce, {x}, {rt}, {{"axis", axis}});
    Block &body = op->body();
    Value *l = body.addArgument(x->type()->element());
    Value *r = body.addArgument(x->type()->element());
    InsertionGuard g(b);
    b.setInsertionPointToEnd(body);
    b.yield({b.binary(kind, l, r)});
    return op->result();
  }

  /// Emits `f` (verifying it first) and compiles it for sm_80 and sm_90a; returns the source.
  std::string emitAndCompile(Function &f, int numWarps = 4) {
    EXPECT_TRUE(verify(f, diag)) << diag.renderAll();
    auto k = cuda::emitCuda(f, {numWarps}, diag);
    EXPECT_TRUE(k.has_value()) << diag.renderAll();
    if (!k)
      return "";
    kernel = *k;
    EXPECT_EQ(k->numThreads, unsigned(numWarps * 32));
    std::string why;
    if (!cuda::nvrtcAvailable(&why)) {
      ADD_FAILURE() << "unreachable: tests skip first";
      return k->source;
    }
    for (const char *arch : {"sm_80", "sm_90a"}) {
      auto cubin = cuda::compileCuda(k->source, k->name + ".cu", arch);
      EXPECT_TRUE(bool(cubin)) << arch << ":\n" << (cubin ? "" : cubin.error().message) << "\n" << k->source;
      if (cubin) { // a cubin is an ELF file
        EXPECT_EQ(std::string(cubin->data() + 1, 3), "ELF");
      }
    }
    return k->source;
  }

  void SetUp() override {
    std::string why;
    if (!cuda::nvrtcAvailable(&why))
      GTEST_SKIP() << "NVRTC unavailable: " << why;
  }
};

/// Runs `k` on GPU 0 with a 1-D grid when a GPU exists: pointer parameters take the next of `bufs`
/// (copied in and back), integer parameters the next of `ints`. Returns false (and says why) otherwise.
bool runOnGpu(const cuda::CudaKernel &k, unsigned grid, std::vector<std::vector<float> *> bufs,
              std::vector<int32_t> ints, std::string &why) {
  const cuda::Driver *drv = cuda::Driver::get(&why);
  if (!drv)
    return false;
  auto info = drv->deviceInfo(0);
  if (!info) {
    ADD_FAILURE() << info.error();
    return false;
  }
  auto cubin = cuda::compileCuda(k.source, k.name + ".cu", info->arch());
  if (!cubin) {
    ADD_FAILURE() << cubin.error();
    return false;
  }
  auto loaded = cuda::LoadedKernel::load(*drv, k, *cubin, 0);
  if (!loaded) {
    ADD_FAILURE() << loaded.error();
    return false;
  }
  std::vector<LaunchArg> args;
  size_t nb = 0, ni = 0;
  for (const cuda::KernelParam &p : k.params) {
    if (p.isPointer) {
      EXPECT_LT(nb, bufs.size());
      args.push_back(LaunchArg::buffer(bufs[nb]->data(), bufs[nb]->size()));
      ++nb;
    } else {
      EXPECT_LT(ni, ints.size());
      args.push_back(LaunchArg::integer(ints[ni++]));
    }
  }
  Status s = (*loaded)->launchOnHostBuffers({grid, 1, 1}, args);
  EXPECT_TRUE(bool(s)) << (s ? "" : s.error().message);
  return bool(s);
}

std::vector<float> randomFloats(size_t n, unsigned seed, float lo = -2.0f, float hi = 2.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

TEST_F(CudaEmitterTest, VectorAdd) {
  const Type *pf = tc.pointer(f32());
  Function *f = begin("vadd", {{"x", pf}, {"y", pf}, {"out", pf}, {"n", i32()}});
  Value *x = f->body().argument(0), *y = f->body().argument(1), *out = f->body().argument(2);
  Value *n = f->body().argument(3);
  Value *offs =
      b.binary(OpKind::Add, b.broadcastTo(b.binary(OpKind::Mul, b.programId(0), b.constI32(512)), {512}),
               b.makeRange(0, 512));
  Value *mask = b.cmp("lt", offs, b.broadcastTo(n, {512}));
  Value *sum = b.binary(OpKind::Add, b.load(ptrs(x, offs), mask), b.load(ptrs(y, offs), mask));
  b.store(ptrs(out, offs), sum, mask);
  end();
  std::string src = emitAndCompile(*f);
  EXPECT_NE(src.find("extern \"C\" __global__ void __launch_bounds__(128) vadd(mt::f32 * x, mt::f32 * y, "
                     "mt::f32 * out, mt::i32 n)"),
            std::string::npos)
      << src;
  // 512 elements / 128 threads = 4 consecutive elements per thread, masked by the tile bound.
  EXPECT_NE(src.find("const int L = mt::nonNeg((mt_tid * 4 + i));"), std::string::npos) << src;
  EXPECT_NE(src.find("if (L < 512 && "), std::string::npos) << src;
  EXPECT_EQ(src.find("mt_smem"), std::string::npos) << "vector add needs no shared memory";

  // On a GPU: n = 1000 over 2 programs of 512; the 24 elements past n keep their sentinel.
  std::vector<float> hx = randomFloats(1024, 1), hy = randomFloats(1024, 2), hout(1024, -7.0f);
  std::string why;
  if (!runOnGpu(kernel, 2, {&hx, &hy, &hout}, {1000}, why))
    GTEST_SKIP() << "not run: " << why;
  for (int i = 0; i < 1024; ++i)
    ASSERT_EQ(hout[i], i < 1000 ? hx[i] + hy[i] : -7.0f) << "at " << i;
}

TEST_F(CudaEmitterTest, MaskedRowSoftmaxReduction) {
  // One program per row of 256 columns: y = exp(x - max(x)) / sum(exp(x - max(x))), masked by n_cols.
  const Type *pf = tc.pointer(f32());
  Function *f = begin("row_softmax", {{"out", pf}, {"in", pf}, {"n_cols", i32()}});
  Value *out = f->body().argument(0), *in = f->body().argument(1), *nCols = f->body().argument(2);
  Value *cols = b.makeRange(0, 256);
  Value *row = b.binary(OpKind::Mul, b.programId(0), nCols);
  Value *offs = b.binary(OpKind::Add, b.broadcastTo(row, {256}), cols);
  Value *mask = b.cmp("lt", cols, b.broadcastTo(nCols, {256}));
  Value *ninf = b.constFloat(tc.block(f32(), {256}), -INFINITY);
  Value *x = b.load(ptrs(in, offs), mask, ninf);
  Value *mx = reduce(x, 0, OpKind::Max);
  EXPECT_TRUE(mx->type()->isScalar());
  Value *e = b.unary(OpKind::Exp, b.binary(OpKind::Sub, x, b.broadcastTo(mx, {256})));
  Value *sum = reduce(e, 0, OpKind::Add);
  b.store(ptrs(out, offs), b.binary(OpKind::Div, e, b.broadcastTo(sum, {256})), mask);
  end();
  std::string src = emitAndCompile(*f, 2);
  EXPECT_NE(src.find("__launch_bounds__(64) row_softmax("), std::string::npos) << src;
  EXPECT_NE(src.find("mt::max("), std::string::npos) << src;
  // Row reductions stay in registers and warp shuffles; shared memory only holds the 2 warps' partials
  // (2 floats, padded to 16 bytes; every thread holds elements, so no validity flags).
  EXPECT_NE(src.find("mt::shflXor("), std::string::npos) << src;
  EXPECT_EQ(src.find("mt_rhas"), std::string::npos) << src;
  EXPECT_NE(src.find("unsigned char mt_smem[]; // 16 bytes"), std::string::npos) << src;

  // On a GPU: 5 rows of 200 columns (the last 56 lanes masked off).
  const int rows = 5, ncol = 200;
  std::vector<float> hin = randomFloats(rows * ncol, 3, -5.0f, 5.0f), hout(rows * ncol, 0.0f);
  std::string why;
  if (!runOnGpu(kernel, rows, {&hout, &hin}, {ncol}, why))
    GTEST_SKIP() << "not run: " << why;
  for (int r = 0; r < rows; ++r) {
    double mx = -INFINITY, total = 0;
    for (int c = 0; c < ncol; ++c)
      mx = std::max(mx, double(hin[r * ncol + c]));
    for (int c = 0; c < ncol; ++c)
      total += std::exp(double(hin[r * ncol + c]) - mx);
    for (int c = 0; c < ncol; ++c)
      ASSERT_NEAR(hout[r * ncol + c], std::exp(double(hin[r * ncol + c]) - mx) / total, 1e-6)
          << r << "," << c;
  }
}

TEST_F(CudaEmitterTest, ForLoopAccumulation) {
  // acc (a tile) and a scalar counter carried through `for k in range(0, n_iter)`.
  const Type *pf = tc.pointer(f32());
  Function *f = begin("accum", {{"out", pf}, {"in", pf}, {"n_iter", i32()}});
  Value *out = f->body().argument(0), *in = f->body().argument(1), *nIter = f->body().argument(2);
  Value *r = b.makeRange(0, 64);
  Value *acc0 = b.constFloat(tc.block(f32(), {64}), 0.0);
  Operation *loop = b.createFor(b.constI32(0), nIter, b.constI32(1), {acc0, b.constFloat(f32(), 1.0)});
  {
    InsertionGuard g(b);
    Block &body = loop->body();
    b.setInsertionPointToEnd(body);
    Value *k = body.argument(0), *acc = body.argument(1), *scale = body.argument(2);
    Value *offs = b.binary(OpKind::Add, b.broadcastTo(b.binary(OpKind::Mul, k, b.constI32(64)), {64}), r);
    Value *x = b.binary(OpKind::Mul, b.load(ptrs(in, offs)), b.broadcastTo(scale, {64}));
    b.yield({b.binary(OpKind::Add, acc, x), b.binary(OpKind::Mul, scale, b.constFloat(f32(), 0.5))});
  }
  b.store(ptrs(out, r), loop->result(0));
  end();
  std::string src = emitAndCompile(*f);
  EXPECT_NE(src.find(" < n_iter : "), std::string::npos) << src;
  EXPECT_NE(src.find("_next"), std::string::npos) << "two carried values go through temporaries\n" << src;

  // On a GPU: out[j] = sum_k in[64k + j] * 0.5^k for 3 iterations.
  std::vector<float> hin = randomFloats(192, 4), hout(64, 0.0f);
  std::string why;
  if (!runOnGpu(kernel, 1, {&hout, &hin}, {3}, why))
    GTEST_SKIP() << "not run: " << why;
  for (int j = 0; j < 64; ++j)
    ASSERT_NEAR(hout[j], hin[j] + hin[64 + j] * 0.5 + hin[128 + j] * 0.25, 1e-5) << j;
}

TEST_F(CudaEmitterTest, Broadcast2D) {
  // out[i, j] = a[i] + b[j] for a 32x64 tile: expand_dims + broadcast on both sides.
  const Type *pf = tc.pointer(f32());
  Function *f = begin("outer_add", {{"out", pf}, {"a", pf}, {"b", pf}});
  Value *out = f->body().argument(0), *pa = f->body().argument(1), *pb = f->body().argument(2);
  Value *ri = b.makeRange(0, 32), *rj = b.makeRange(0, 64);
  Value *va = b.load(ptrs(pa, ri)), *vb = b.load(ptrs(pb, rj));
  auto expand = [&](Value *v, int64_t axis, std::vector<int64_t> shape) {
    return b.create1(OpKind::ExpandDims, {v}, tc.block(v->type()->element(), shape), {{"axis", axis}});
  };
  Value *a2 = b.broadcastTo(expand(va, 1, {32, 1}), {32, 64});
  Value *b2 = b.broadcastTo(expand(vb, 0, {1, 64}), {32, 64});
  Value *i2 = b.broadcastTo(expand(ri, 1, {32, 1}), {32, 64});
  Value *j2 = b.broadcastTo(expand(rj, 0, {1, 64}), {32, 64});
  Value *offs =
      b.binary(OpKind::Add, b.binary(OpKind::Mul, i2, b.constInt(tc.block(i32(), {32, 64}), 64)), j2);
  b.store(ptrs(out, offs), b.binary(OpKind::Add, a2, b2));
  end();
  std::string src = emitAndCompile(*f);
  // Both broadcasts re-load a and b at their own indices (a at L / 64, b at L % 64) instead of a
  // shared-memory round trip, then one barrier orders those loads before the store.
  EXPECT_EQ(src.find("_smem"), std::string::npos) << src;
  EXPECT_NE(src.find("(L / 64)"), std::string::npos) << src;
  EXPECT_NE(src.find("(L % 64)"), std::string::npos) << src;
  EXPECT_NE(src.find("__syncthreads(); // re-loaded broadcasts"), std::string::npos) << src;

  std::vector<float> av = randomFloats(32, 5), bv = randomFloats(64, 6), outv(32 * 64, 0.0f);
  std::string why;
  if (!runOnGpu(kernel, 1, {&outv, &av, &bv}, {}, why))
    GTEST_SKIP() << "not run: " << why;
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 64; ++j)
      ASSERT_EQ(outv[i * 64 + j], av[i] + bv[j]) << i << "," << j;
}

TEST_F(CudaEmitterTest, Dot) {
  const Type *pf = tc.pointer(f32());
  Function *f = begin("mm", {{"c", pf}, {"a", pf}, {"b", pf}});
  Value *pc = f->body().argument(0), *pa = f->body().argument(1), *pb = f->body().argument(2);
  Value *a = b.load(ptrs(pa, b.create1(OpKind::Reshape, {b.makeRange(0, 16 * 8)}, tc.block(i32(), {16, 8}))));
  Value *bm =
      b.load(ptrs(pb, b.create1(OpKind::Reshape, {b.makeRange(0, 8 * 32)}, tc.block(i32(), {8, 32}))));
  Value *acc = b.constFloat(tc.block(f32(), {16, 32}), 0.0);
  Value *d = b.create1(OpKind::Dot, {a, bm, acc}, acc->type(), {{"input_precision", std::string("ieee")}});
  b.store(ptrs(pc, b.create1(OpKind::Reshape, {b.makeRange(0, 16 * 32)}, tc.block(i32(), {16, 32}))), d);
  end();
  std::string src = emitAndCompile(*f, 1);
  EXPECT_NE(src.find("for (int mt_k = 0; mt_k < 8; ++mt_k)"), std::string::npos) << src;
  // A (16x8 f32 = 512 bytes) then B (8x32 f32 = 1024 bytes).
  EXPECT_NE(src.find("unsigned char mt_smem[]; // 1536 bytes"), std::string::npos) << src;

  std::vector<float> cv(16 * 32, 0.0f), av = randomFloats(16 * 8, 7), bv = randomFloats(8 * 32, 8);
  std::string why;
  if (!runOnGpu(kernel, 1, {&cv, &av, &bv}, {}, why))
    GTEST_SKIP() << "not run: " << why;
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 32; ++n) {
      double ref = 0;
      for (int k = 0; k < 8; ++k)
        ref += double(av[m * 8 + k]) * bv[k * 32 + n];
      ASSERT_NEAR(cv[m * 32 + n], ref, 1e-4) << m << "," << n;
    }
}

TEST_F(CudaEmitterTest, UnsupportedInputIsADiagnostic) {
  // A 3-D dot is not supported yet: an error at the op's location, no crash.
  uint32_t file = sources.addBuffer("k.py", "x = tl.dot(a, b)\n");
  Function *f = begin("bad", {{"p", tc.pointer(f32())}});
  const Type *t3 = tc.block(f32(), {2, 4, 4});
  Value *z = b.constFloat(t3, 1.0);
  b.setLoc({file, 1, 5});
  b.create1(OpKind::Dot, {z, z, z}, t3);
  b.setLoc({});
  end();
  auto k = cuda::emitCuda(*f, {4}, diag);
  EXPECT_FALSE(k.has_value());
  std::string msg = diag.renderAll();
  EXPECT_NE(msg.find("k.py:1:5: error: CUDA backend: 'dot': only 2-D dot is supported"), std::string::npos)
      << msg;
}

} // namespace
