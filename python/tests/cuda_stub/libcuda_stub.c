/* A stand-in libcuda.so.1 for testing the GPU launch path on machines without a GPU: one fake sm_90
 * device, host malloc for device memory, modules and functions that are dummies, and a cuLaunchKernel that
 * runs nothing but prints what it was given (grid, block, shared bytes, stream, and the first
 * $STUB_NPARAMS parameter values as 8-byte hex words) to stderr. NVRTC also loads libcuda when present:
 * cuGetExportTable fails so that it goes on without the driver. Built by test_cuda_stub.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
static int ctxDummy, modDummy, fnDummy;
static void *current = 0;

CUresult cuInit(unsigned flags) { (void)flags; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { *d = ordinal; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { (void)d; strncpy(s, "StubGPU", (size_t)n); return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int d) {
  (void)d;
  *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 132 : attr == 97 ? 232448 : 0;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **c, int d) {
  (void)d;
  *c = &ctxDummy;
  fprintf(stderr, "[stub] cuDevicePrimaryCtxRetain\n");
  return 0;
}
CUresult cuCtxSetCurrent(void *c) { current = c; return 0; }
CUresult cuCtxGetCurrent(void **c) { *c = current; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadData(void **m, const void *image) {
  (void)image;
  *m = &modDummy;
  fprintf(stderr, "[stub] cuModuleLoadData in %s context\n", current ? "a" : "NO");
  return current ? 0 : 201; /* CUDA_ERROR_INVALID_CONTEXT */
}
CUresult cuModuleUnload(void *m) { (void)m; return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  (void)m;
  *f = &fnDummy;
  fprintf(stderr, "[stub] cuModuleGetFunction %s\n", name);
  return 0;
}
CUresult cuFuncSetAttribute(void *f, int attr, int v) { (void)f; (void)attr; (void)v; return 0; }
/* 40 registers and 16 bytes of local memory (4 spilled words) per thread. */
CUresult cuFuncGetAttribute(int *v, int attr, void *f) {
  (void)f;
  *v = attr == 4 ? 40 : attr == 3 ? 16 : 0;
  return 0;
}
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
  (void)f; (void)by; (void)bz; (void)extra;
  int n = getenv("STUB_NPARAMS") ? atoi(getenv("STUB_NPARAMS")) : 0;
  fprintf(stderr, "[stub] cuLaunchKernel grid=%u,%u,%u block=%u shared=%u stream=%p params=", gx, gy, gz, bx,
          shared, stream);
  for (int i = 0; i < n; ++i) {
    unsigned long long v = 0;
    memcpy(&v, params[i], 8);
    fprintf(stderr, "%s%llx", i ? "," : "", v);
  }
  fprintf(stderr, "\n");
  return 0;
}
CUresult cuMemAlloc_v2(unsigned long long *p, size_t n) { *p = (unsigned long long)malloc(n); return 0; }
CUresult cuMemFree_v2(unsigned long long p) { free((void *)p); return 0; }
CUresult cuMemcpyHtoD_v2(unsigned long long d, const void *s, size_t n) { memcpy((void *)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, unsigned long long s, size_t n) { memcpy(d, (void *)s, n); return 0; }
CUresult cuGetErrorName(CUresult r, const char **s) { (void)r; *s = "CUDA_ERROR_STUB"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **s) { (void)r; *s = "stub driver"; return 0; }
CUresult cuGetExportTable(const void **table, const void *id) { (void)id; *table = 0; return 500; }
