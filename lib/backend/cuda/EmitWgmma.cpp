// Tile IR -> CUDA C++: the wgmma.mma_async instruction for one accumulator width.
//
// An m64nNk16 warpgroup MMA names every accumulator register of the thread (N / 2 f32 registers), so its
// inline asm cannot be written once for all N in a header: the emitter generates one device function per
// (N, dtype, B orientation) a kernel uses and defines it before the kernel, e.g. for N = 16:
//
//   __device__ __forceinline__ void mt_wgmma_m64n16k16_bf16_nmajor(float (&d)[8], unsigned long long da,
//                                                                  unsigned long long db) {
//   #if defined(__CUDA_ARCH_FEAT_SM90_ALL)
//     asm volatile("{ .reg .pred p; setp.ne.b32 p, %10, 0;\n"
//                  "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {%0, ..., %7}, %8, %9, p, 1, 1, 0, 1; }"
//                  : "+f"(d[0]), ..., "+f"(d[7]) : "l"(da), "l"(db), "r"(1));
//   #else
//     mt::wgmmaEmulate<mt::bf16, 16, false>(d, da, db);
//   #endif
//   }
//
// device/wgmma.cuh's wgmmaAccumulate builds the descriptors and calls it once per k-step.
#include "backend/cuda/EmitterImpl.h"

namespace mt::cuda::detail {

using namespace ir;

std::string KernelEmitter::wgmmaInstruction(int64_t n, DType elem, bool bKMajor, bool aRegs) {
  MT_ASSERT(n % 8 == 0 && n >= 8 && n <= 256) << "CUDA emitter: no wgmma of width " << n;
  MT_ASSERT(elem == DType::BF16 || elem == DType::F16) << "CUDA emitter: wgmma operands are f16 or bf16";
  std::string ty = elem == DType::BF16 ? "bf16" : "f16";
  std::string fn = "mt_wgmma_m64n" + num(n) + "k16_" + ty + (aRegs ? "_rs" : "") + (bKMajor ? "_kmajor" : "_nmajor");
  if (wgmmaHelpers_.count(fn))
    return fn;
  int64_t regs = n / 2;
  // Operands: the accumulators %0 .. %regs-1, then A (4 registers or a descriptor), B's descriptor, scale-d.
  int64_t aOps = aRegs ? 4 : 1, bOp = regs + aOps, scaleOp = bOp + 1;
  std::ostringstream d;
  d << "__device__ __forceinline__ void " << fn << "(float (&d)[" << regs << "], "
    << (aRegs ? "const unsigned (&a)[4]" : "unsigned long long da") << ", unsigned long long db) {\n";
  d << "#if defined(__CUDA_ARCH_FEAT_SM90_ALL)\n";
  d << "  asm volatile(\"{\\n.reg .pred p;\\nsetp.ne.b32 p, %" << scaleOp << ", 0;\\n\"\n";
  d << "               \"wgmma.mma_async.sync.aligned.m64n" << n << "k16.f32." << ty << "." << ty << " {";
  for (int64_t r = 0; r < regs; ++r)
    d << (r ? ", " : "") << "%" << r;
  d << "}, ";
  if (aRegs)
    d << "{%" << regs << ", %" << regs + 1 << ", %" << regs + 2 << ", %" << regs + 3 << "}";
  else
    d << "%" << regs;
  // Register A has no transpose immediate: scale-d, scale-a, scale-b, [trans-a,] trans-b.
  d << ", %" << bOp << ", p, 1, 1, " << (aRegs ? "" : "0, ") << (bKMajor ? 0 : 1) << ";\\n}\\n\"\n";
  d << "               : ";
  for (int64_t r = 0; r < regs; ++r)
    d << (r ? ", " : "") << (r && r % 8 == 0 ? "\n                 " : "") << "\"+f\"(d[" << r << "])";
  d << "\n               : ";
  if (aRegs)
    d << "\"r\"(a[0]), \"r\"(a[1]), \"r\"(a[2]), \"r\"(a[3])";
  else
    d << "\"l\"(da)";
  d << ", \"l\"(db), \"r\"(1));\n";
  d << "#else\n";
  d << "  mt::" << (aRegs ? "wgmmaEmulateRegA" : "wgmmaEmulate") << "<mt::" << ty << ", " << n << ", "
    << (bKMajor ? "true" : "false") << ">(d, " << (aRegs ? "a" : "da") << ", db);\n";
  d << "#endif\n}\n";
  wgmmaHelpers_[fn] = d.str();
  return fn;
}

} // namespace mt::cuda::detail
