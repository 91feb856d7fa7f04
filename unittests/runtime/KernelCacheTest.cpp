// The disk cache of compiled kernels: SHA-256, KernelCache (round trip, atomic replace, corrupt entries,
// unwritable directories, concurrent writers), the environment, the Cuda-target key, and the compile-only
// path (kernel source → cubin through NVRTC for sm_90a, no GPU needed) hitting the cache.
#include "../e2e/E2EUtil.h"

#include "backend/cuda/Driver.h"
#include "backend/cuda/Nvrtc.h"
#include "runtime/CudaTarget.h"
#include "runtime/KernelCache.h"
#include "runtime/Sha256.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

namespace mt::runtime {
namespace {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed with its contents at the end of the test.
class TempDir {
public:
  TempDir() {
    static std::atomic<unsigned> n{0};
    path_ = fs::temp_directory_path() /
            ("mt-cache-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path &path() const { return path_; }
  std::string str() const { return path_.string(); }
  /// The names of the files in the directory (temp files included).
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    return out;
  }

private:
  fs::path path_;
};

std::vector<char> randomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<char> v(n);
  for (char &c : v)
    c = char(rng() & 0xff);
  return v;
}

std::string readAll(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void writeAll(const fs::path &p, const std::string &s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

const std::string kKeyA = Sha256::hex("a"), kKeyB = Sha256::hex("b");

// ---- SHA-256 ----------------------------------------------------------------------------------------

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 appendix B and the empty message.
  EXPECT_EQ(Sha256::hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256::hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256::hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256::hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  std::vector<char> data = randomBytes(1000, 1);
  std::string whole = Sha256::hex(data.data(), data.size());
  for (size_t step : {1u, 7u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    Sha256 h;
    for (size_t i = 0; i < data.size(); i += step)
      h.update(data.data() + i, std::min(step, data.size() - i));
    EXPECT_EQ(h.hexDigest(), whole) << "step " << step;
  }
}

TEST(Sha256, FieldsAreLengthPrefixed) {
  Sha256 a, b;
  a.updateField("ab");
  a.updateField("c");
  b.updateField("a");
  b.updateField("bc");
  EXPECT_NE(a.hexDigest(), b.hexDigest());
}

// ---- KernelCache ------------------------------------------------------------------------------------

TEST(KernelCache, RoundTrip) {
  TempDir dir;
  KernelCache cache((dir.path() / "sub" / "dir").string()); // created on the first put
  EXPECT_FALSE(cache.get(kKeyA));
  std::vector<char> bin = randomBytes(70000, 2);
  ASSERT_TRUE(cache.put(kKeyA, {{"symbol", "add_kernel"}, {"num_threads", 128}}, bin));
  auto e = cache.get(kKeyA);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->binary, bin);
  EXPECT_EQ(e->metadata["symbol"], "add_kernel");
  EXPECT_EQ(e->metadata["num_threads"], 128);
  EXPECT_EQ(e->metadata["key"], kKeyA);
  EXPECT_FALSE(cache.get(kKeyB)); // another key misses
  KernelCache::Stats s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.writes, 1u);
  EXPECT_EQ(s.corrupt, 0u);
  // A second KernelCache on the same directory (another process, say) sees the entry.
  KernelCache other(cache.dir());
  auto e2 = other.get(kKeyA);
  ASSERT_TRUE(e2);
  EXPECT_EQ(e2->binary, bin);
}

TEST(KernelCache, EmptyBinaryRoundTrips) {
  TempDir dir;
  KernelCache cache(dir.str());
  ASSERT_TRUE(cache.put(kKeyA, nlohmann::json::object(), {}));
  auto e = cache.get(kKeyA);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->binary.empty());
}

TEST(KernelCache, PutReplacesAtomicallyAndLeavesNoTempFiles) {
  TempDir dir;
  KernelCache cache(dir.str());
  std::vector<char> first = randomBytes(5000, 3), second = randomBytes(3000, 4);
  ASSERT_TRUE(cache.put(kKeyA, {{"v", 1}}, first));
  ASSERT_TRUE(cache.put(kKeyA, {{"v", 2}}, second));
  auto e = cache.get(kKeyA);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->binary, second);
  EXPECT_EQ(e->metadata["v"], 2);
  EXPECT_EQ(dir.files(), std::vector<std::string>{kKeyA + ".mtk"});
}

TEST(KernelCache, StaleTempFilesAreRemovedOnTheFirstPut) {
  TempDir dir;
  fs::path stale = dir.path() / ("." + kKeyB + ".999.0.tmp"),
           fresh = dir.path() / ("." + kKeyB + ".999.1.tmp");
  writeAll(stale, "half an entry");
  writeAll(fresh, "a writer at work");
  writeAll(dir.path() / "unrelated.tmp", "not ours");
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(2));
  KernelCache cache(dir.str());
  ASSERT_TRUE(cache.put(kKeyA, nlohmann::json::object(), randomBytes(10, 10)));
  std::vector<std::string> files = dir.files();
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{fresh.filename().string(), kKeyA + ".mtk", "unrelated.tmp"}));
}

/// Damages the stored entry of kKeyA with `damage` and checks that get() reports it, removes the file,
/// counts it as corrupt, and that a put afterwards is read back intact.
void expectCorruptionDetected(const std::function<void(std::string &)> &damage, const std::string &why) {
  TempDir dir;
  std::ostringstream log;
  KernelCache cache(dir.str(), /*log=*/true, &log);
  std::vector<char> bin = randomBytes(4000, 5);
  ASSERT_TRUE(cache.put(kKeyA, {{"symbol", "k"}}, bin));
  fs::path file = cache.pathFor(kKeyA);
  std::string text = readAll(file);
  damage(text);
  writeAll(file, text);
  std::string reason;
  EXPECT_FALSE(cache.get(kKeyA, &reason));
  EXPECT_NE(reason.find(why), std::string::npos) << reason;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(cache.stats().corrupt, 1u);
  EXPECT_NE(log.str().find("dropped corrupt entry"), std::string::npos) << log.str();
  // Recompiled and rewritten: the next get hits.
  ASSERT_TRUE(cache.put(kKeyA, {{"symbol", "k"}}, bin));
  auto e = cache.get(kKeyA);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->binary, bin);
}

TEST(KernelCache, TruncatedEntryIsDropped) {
  expectCorruptionDetected([](std::string &t) { t.resize(t.size() - 100); }, "size mismatch");
}

TEST(KernelCache, TruncatedToHeaderIsDropped) {
  expectCorruptionDetected([](std::string &t) { t.resize(t.find('\n') + 1); }, "size mismatch");
}

TEST(KernelCache, EmptyFileIsDropped) {
  expectCorruptionDetected([](std::string &t) { t.clear(); }, "no header");
}

TEST(KernelCache, FlippedBinaryByteIsDropped) {
  expectCorruptionDetected([](std::string &t) { t[t.size() - 1234] ^= 0x20; }, "checksum mismatch");
}

TEST(KernelCache, FlippedMetadataByteIsDropped) {
  // Turns "symbol":"k" into "symbol":"j": still valid JSON, caught by the checksum.
  expectCorruptionDetected(
      [](std::string &t) {
        size_t at = t.find("\"k\"");
        ASSERT_NE(at, std::string::npos);
        t[at + 1] = 'j';
      },
      "checksum mismatch");
}

TEST(KernelCache, GarbageIsDropped) {
  expectCorruptionDetected(
      [](std::string &t) {
        t = std::string("\x7f"
                        "ELF\0\1\2 garbage\n not an entry",
                        29);
      },
      "bad header");
}

TEST(KernelCache, OtherFormatIsDropped) {
  expectCorruptionDetected([](std::string &t) { t[5] = '7'; }, "format 7");
}

/// An entry file with a valid header and checksum over `meta` + `bin`.
std::string forgeEntry(const std::string &meta, const std::string &bin) {
  return "MTKC 1 " + Sha256::hex(meta + bin) + " " + std::to_string(meta.size()) + " " +
         std::to_string(bin.size()) + "\n" + meta + bin;
}

TEST(KernelCache, GarbageJsonWithValidChecksumIsDropped) {
  expectCorruptionDetected([](std::string &t) { t = forgeEntry("{\"key\": \"abc\", oops", "cubin"); },
                           "not a JSON object");
}

TEST(KernelCache, JsonArrayIsDropped) {
  expectCorruptionDetected([](std::string &t) { t = forgeEntry("[1, 2]", "cubin"); }, "not a JSON object");
}

TEST(KernelCache, EntryOfAnotherKeyIsDropped) {
  // A file copied (or renamed) under the wrong name.
  expectCorruptionDetected([](std::string &t) { t = forgeEntry("{\"key\": \"" + kKeyB + "\"}", "x"); },
                           "another key");
}

TEST(KernelCache, UnwritableDirectoryGivesOneNotice) {
  TempDir dir;
  writeAll(dir.path() / "file", "a regular file"); // a directory cannot be created under it, even as root
  std::ostringstream notices;
  KernelCache cache((dir.path() / "file" / "cache").string(), /*log=*/false, &notices);
  EXPECT_FALSE(cache.get(kKeyA));
  EXPECT_FALSE(cache.put(kKeyA, nlohmann::json::object(), randomBytes(10, 6)));
  EXPECT_FALSE(cache.put(kKeyB, nlohmann::json::object(), randomBytes(10, 7)));
  std::string text = notices.str();
  EXPECT_NE(text.find("cannot write the kernel cache"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(cache.stats().writeFailures, 1u);
}

TEST(KernelCache, ConcurrentWritersAndReaders) {
  TempDir dir;
  std::vector<char> bin = randomBytes(200000, 8);
  std::atomic<int> bad{0}, hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      KernelCache cache(dir.str()); // one per thread, as separate processes would have
      for (int i = 0; i < 25; ++i) {
        if (t % 2 == 0) {
          if (!cache.put(kKeyA, {{"symbol", "k"}}, bin))
            ++bad;
          continue;
        }
        if (auto e = cache.get(kKeyA)) {
          ++hits;
          if (e->binary != bin)
            ++bad;
        }
        if (cache.stats().corrupt != 0)
          ++bad;
      }
    });
  for (auto &th : threads)
    th.join();
  // Whatever a reader saw while writers replaced the entry was whole (readers may all finish before the
  // first write lands, so a hit during the race is not required); afterwards the entry is there.
  EXPECT_EQ(bad.load(), 0);
  KernelCache after(dir.str());
  auto e = after.get(kKeyA);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->binary, bin);
  EXPECT_EQ(dir.files(), std::vector<std::string>{kKeyA + ".mtk"}); // no temp file left behind
}

// ---- Options from the environment -------------------------------------------------------------------

DiskCacheOptions resolveWith(DiskCacheOptions opts, std::map<std::string, std::string> env) {
  return resolveDiskCacheOptions(std::move(opts), [env = std::move(env)](const char *name) -> const char * {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(DiskCacheOptions, DefaultsToHomeCache) {
  DiskCacheOptions o = resolveWith({}, {{"HOME", "/home/u"}});
  EXPECT_TRUE(o.enabled);
  EXPECT_FALSE(o.log);
  EXPECT_EQ(o.dir, "/home/u/.cache/mini_triton");
  EXPECT_EQ(resolveWith({}, {{"HOME", "/home/u"}, {"XDG_CACHE_HOME", "/xdg"}}).dir, "/xdg/mini_triton");
}

TEST(DiskCacheOptions, EnvironmentOverrides) {
  std::map<std::string, std::string> env = {{"HOME", "/home/u"}, {"MINI_TRITON_CACHE_DIR", "/tmp/c"}};
  EXPECT_EQ(resolveWith({}, env).dir, "/tmp/c");
  DiskCacheOptions explicitDir;
  explicitDir.dir = "/opt/c";
  EXPECT_EQ(resolveWith(explicitDir, env).dir, "/opt/c"); // an explicit option wins over the environment
  env["MINI_TRITON_CACHE_LOG"] = "1";
  EXPECT_TRUE(resolveWith({}, env).log);
  env["MINI_TRITON_CACHE_DISABLE"] = "0";
  EXPECT_TRUE(resolveWith({}, env).enabled);
  env["MINI_TRITON_CACHE_DISABLE"] = "1";
  EXPECT_FALSE(resolveWith({}, env).enabled);
  EXPECT_FALSE(resolveWith(explicitDir, env).enabled); // the user's switch wins over code
  DiskCacheOptions off;
  off.enabled = false;
  EXPECT_FALSE(resolveWith(off, {{"HOME", "/home/u"}}).enabled);
  EXPECT_FALSE(resolveWith({}, {}).enabled); // no HOME, no dir: nowhere to cache
}

TEST(DiskCacheOptions, ContextReportsTheDirectory) {
  TempDir dir;
  ContextOptions o;
  o.diskCache.dir = dir.str();
  Context ctx(o);
  // MINI_TRITON_CACHE_DISABLE in the test's environment would turn it off.
  if (resolveDiskCacheOptions(o.diskCache).enabled) {
    EXPECT_EQ(ctx.cacheStats().diskDir, dir.str());
  }
  ContextOptions off;
  off.diskCache.enabled = false;
  EXPECT_EQ(Context(off).cacheStats().diskDir, "");
}

// ---- The Cuda-target key ----------------------------------------------------------------------------

TEST(CudaCacheKey, DependsOnEverythingThatChangesTheCubin) {
  KernelSource src;
  src.text = "@triton.jit\ndef k(x, n, B: tl.constexpr):\n    pass\n";
  src.functionName = "k";
  std::vector<ArgSpec> args = {ArgSpec::pointer(DType::F32), ArgSpec::forInt(1000),
                               ArgSpec::constant(int64_t(128))};
  CompileOptions opts;
  opts.target = Target::Cuda;
  const std::pair<int, int> nv{13, 0};
  std::string base = cudaCacheKey(src, args, opts, "sm_90a", nv);
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base, cudaCacheKey(src, args, opts, "sm_90a", nv)); // deterministic

  std::set<std::string> keys = {base};
  auto distinct = [&](const std::string &key, const char *what) {
    EXPECT_TRUE(keys.insert(key).second) << what << " does not change the key";
  };
  distinct(cudaCacheKey(src, args, opts, "sm_80", nv), "arch");
  distinct(cudaCacheKey(src, args, opts, "sm_90a", {12, 8}), "NVRTC version");
  CompileOptions o = opts;
  o.numWarps = 8;
  distinct(cudaCacheKey(src, args, o, "sm_90a", nv), "num_warps");
  o = opts;
  o.numStages = 2;
  distinct(cudaCacheKey(src, args, o, "sm_90a", nv), "num_stages");
  o = opts;
  o.optimize = false;
  distinct(cudaCacheKey(src, args, o, "sm_90a", nv), "optimize");
  auto a = args;
  a[2] = ArgSpec::constant(int64_t(256));
  distinct(cudaCacheKey(src, a, opts, "sm_90a", nv), "a constexpr value");
  a = args;
  a[1] = ArgSpec::forInt(1024);
  distinct(cudaCacheKey(src, a, opts, "sm_90a", nv), "divisibility by 16");
  a = args;
  a[1] = ArgSpec::forInt(1);
  distinct(cudaCacheKey(src, a, opts, "sm_90a", nv), "equals one");
  a = args;
  a[0] = ArgSpec::pointer(DType::F32, /*aligned16=*/false);
  distinct(cudaCacheKey(src, a, opts, "sm_90a", nv), "pointer alignment");
  a = args;
  a[0] = ArgSpec::pointer(DType::BF16);
  distinct(cudaCacheKey(src, a, opts, "sm_90a", nv), "the pointee dtype");
  KernelSource s2 = src;
  s2.text += "# a comment\n";
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "the source text");
  s2 = src;
  s2.functionName = "k2";
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "the function name");
  s2 = src;
  s2.helpers.push_back({"@triton.jit\ndef h(x):\n    return x\n", "h.py", 0});
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "a helper source");
  s2 = src;
  s2.globals["EPS"] = 1e-5;
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "a module global");
  // The file name and line offset reach the cubin's line table through the #line directives.
  s2 = src;
  s2.fileName = "other.py";
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "the file name");
  s2 = src;
  s2.lineOffset = 7;
  distinct(cudaCacheKey(s2, args, opts, "sm_90a", nv), "the line offset");
  EXPECT_EQ(std::string(compilerBuildId()).size(), 64u);
}

// ---- Compile-only: kernel source → cubin through NVRTC, with the cache --------------------------------

std::vector<ArgSpec> vectorAddSpecs(int64_t n) {
  return {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
          ArgSpec::forInt(n), ArgSpec::constant(int64_t(1024))};
}

CompileOptions cudaOptions() {
  CompileOptions o;
  o.target = Target::Cuda;
  return o;
}

#define REQUIRE_NVRTC()                                                                                      \
  do {                                                                                                       \
    std::string why_;                                                                                        \
    if (!cuda::nvrtcAvailable(&why_))                                                                        \
      GTEST_SKIP() << "NVRTC unavailable: " << why_;                                                         \
  } while (0)

TEST(CudaBinaryCache, SecondCompileIsADiskHitWithoutNvrtc) {
  REQUIRE_NVRTC();
  TempDir dir;
  std::ostringstream log;
  KernelCache cache(dir.str(), /*log=*/true, &log);
  auto src = KernelSource::fromFile(e2e::kernelPath("vector_add.py"), "add_kernel");
  ASSERT_TRUE(src) << src.error();

  SourceManager sources1;
  ir::TypeContext types1;
  size_t before = cuda::nvrtcCompileCount();
  auto cold =
      compileCudaBinary(*src, vectorAddSpecs(1000), cudaOptions(), "sm_90a", &cache, sources1, types1);
  ASSERT_TRUE(cold) << cold.error();
  EXPECT_FALSE(cold->fromDiskCache);
  EXPECT_EQ(cuda::nvrtcCompileCount(), before + 1);
  EXPECT_GT(cold->cubin.size(), 256u);
  EXPECT_EQ(cache.stats().writes, 1u);
  EXPECT_NE(log.str().find("mini_triton cache: miss add_kernel sm_90a"), std::string::npos) << log.str();

  // A fresh SourceManager (a new process, as far as the frontend goes): the hit never parses the source.
  SourceManager sources2;
  ir::TypeContext types2;
  auto warm =
      compileCudaBinary(*src, vectorAddSpecs(1000), cudaOptions(), "sm_90a", &cache, sources2, types2);
  ASSERT_TRUE(warm) << warm.error();
  EXPECT_TRUE(warm->fromDiskCache);
  EXPECT_EQ(cuda::nvrtcCompileCount(), before + 1) << "a disk hit must not call NVRTC";
  EXPECT_EQ(sources2.name(1), "<unknown>") << "a disk hit must not run the frontend";
  EXPECT_NE(sources1.name(1), "<unknown>");
  EXPECT_EQ(warm->cacheKey, cold->cacheKey);
  EXPECT_EQ(warm->cubin, cold->cubin);
  EXPECT_EQ(warm->kernel.name, cold->kernel.name);
  EXPECT_EQ(warm->kernel.numThreads, cold->kernel.numThreads);
  EXPECT_EQ(warm->kernel.sharedBytes, cold->kernel.sharedBytes);
  ASSERT_EQ(warm->kernel.params.size(), cold->kernel.params.size());
  for (size_t i = 0; i < warm->kernel.params.size(); ++i) {
    EXPECT_EQ(warm->kernel.params[i].name, cold->kernel.params[i].name);
    EXPECT_EQ(warm->kernel.params[i].isPointer, cold->kernel.params[i].isPointer);
    EXPECT_EQ(warm->kernel.params[i].dtype, cold->kernel.params[i].dtype);
  }
  EXPECT_EQ(warm->functionName, "add_kernel");
  EXPECT_EQ(warm->runtimeParams, cold->runtimeParams);
  EXPECT_EQ(warm->irText, cold->irText);
  EXPECT_NE(log.str().find("mini_triton cache: hit add_kernel sm_90a"), std::string::npos) << log.str();

  // Another arch or another specialisation misses.
  SourceManager sources3;
  ir::TypeContext types3;
  auto sm80 = compileCudaBinary(*src, vectorAddSpecs(1000), cudaOptions(), "sm_80", &cache, sources3, types3);
  ASSERT_TRUE(sm80) << sm80.error();
  EXPECT_FALSE(sm80->fromDiskCache);
  auto n1024 =
      compileCudaBinary(*src, vectorAddSpecs(1024), cudaOptions(), "sm_90a", &cache, sources3, types3);
  ASSERT_TRUE(n1024) << n1024.error();
  EXPECT_FALSE(n1024->fromDiskCache);
  EXPECT_EQ(cuda::nvrtcCompileCount(), before + 3);
}

TEST(CudaBinaryCache, CorruptEntryIsRecompiledAndRewritten) {
  REQUIRE_NVRTC();
  TempDir dir;
  std::ostringstream log;
  KernelCache cache(dir.str(), /*log=*/true, &log);
  auto src = KernelSource::fromFile(e2e::kernelPath("softmax.py"), "softmax_kernel");
  ASSERT_TRUE(src) << src.error();
  std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                ArgSpec::forInt(100),         ArgSpec::forInt(100),
                                ArgSpec::forInt(100),         ArgSpec::constant(int64_t(128))};
  SourceManager sources;
  ir::TypeContext types;
  auto cold = compileCudaBinary(*src, specs, cudaOptions(), "sm_90a", &cache, sources, types);
  ASSERT_TRUE(cold) << cold.error();
  fs::path file = cache.pathFor(cold->cacheKey);
  std::string text = readAll(file);
  writeAll(file, text.substr(0, text.size() / 2)); // a writer killed half way (without the rename)

  size_t before = cuda::nvrtcCompileCount();
  auto again = compileCudaBinary(*src, specs, cudaOptions(), "sm_90a", &cache, sources, types);
  ASSERT_TRUE(again) << again.error();
  EXPECT_FALSE(again->fromDiskCache);
  EXPECT_EQ(cuda::nvrtcCompileCount(), before + 1);
  EXPECT_EQ(again->cubin, cold->cubin);
  EXPECT_EQ(cache.stats().corrupt, 1u);
  EXPECT_EQ(readAll(file), text) << "the entry is rewritten whole";
  auto hit = compileCudaBinary(*src, specs, cudaOptions(), "sm_90a", &cache, sources, types);
  ASSERT_TRUE(hit) << hit.error();
  EXPECT_TRUE(hit->fromDiskCache);
}

TEST(CudaBinaryCache, MetadataWithWrongFieldsIsRecompiled) {
  REQUIRE_NVRTC();
  TempDir dir;
  KernelCache cache(dir.str());
  auto src = KernelSource::fromFile(e2e::kernelPath("vector_add.py"), "add_kernel");
  ASSERT_TRUE(src) << src.error();
  std::string key = cudaCacheKey(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", cuda::nvrtcVersion());
  // An intact entry (checksum fine) whose metadata lacks what the launcher needs.
  ASSERT_TRUE(cache.put(key, {{"kind", "mini-triton cuda kernel v1"}, {"symbol", 3}}, randomBytes(100, 9)));
  SourceManager sources;
  ir::TypeContext types;
  auto bin = compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources, types);
  ASSERT_TRUE(bin) << bin.error();
  EXPECT_FALSE(bin->fromDiskCache);
  EXPECT_EQ(cache.stats().corrupt, 1u);
  auto e = cache.get(key);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->binary, bin->cubin);
}

TEST(CudaBinaryCache, LookupFalseRecompiles) {
  REQUIRE_NVRTC();
  TempDir dir;
  KernelCache cache(dir.str());
  auto src = KernelSource::fromFile(e2e::kernelPath("vector_add.py"), "add_kernel");
  ASSERT_TRUE(src) << src.error();
  SourceManager sources;
  ir::TypeContext types;
  ASSERT_TRUE(compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources, types));
  size_t before = cuda::nvrtcCompileCount();
  auto bin = compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources, types,
                               /*lookup=*/false);
  ASSERT_TRUE(bin) << bin.error();
  EXPECT_FALSE(bin->fromDiskCache);
  EXPECT_EQ(cuda::nvrtcCompileCount(), before + 1);
}

TEST(CudaBinaryCache, FrontendErrorStoresNothing) {
  TempDir dir;
  KernelCache cache(dir.str());
  KernelSource src;
  src.text = "@triton.jit\ndef k(x):\n    y = undefined_name + 1\n";
  src.fileName = "bad.py";
  src.functionName = "k";
  SourceManager sources;
  ir::TypeContext types;
  auto bin =
      compileCudaBinary(src, {ArgSpec::pointer(DType::F32)}, cudaOptions(), "sm_90a", &cache, sources, types);
  ASSERT_FALSE(bin);
  EXPECT_NE(bin.error().message.find("bad.py:3:"), std::string::npos) << bin.error();
  EXPECT_TRUE(dir.files().empty());
}

// ---- Through mt::Context on a GPU ---------------------------------------------------------------------

/// Runs vector add (host buffers, copied in and out) and checks it against x + y.
void expectVectorAddWorks(const e2e::KernelPtr &k, int64_t n, unsigned seed) {
  e2e::Rng rng(seed);
  e2e::Buffer x(DType::F32, n), y(DType::F32, n), out(DType::F32, n);
  rng.fill(x);
  rng.fill(y);
  out.poison();
  ASSERT_LAUNCHES(k, (Grid{e2e::cdiv(n, 1024)}), {x.arg(), y.arg(), out.arg(), LaunchArg::integer(n)});
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; ++i)
    ref[i] = x.get(i) + y.get(i);
  EXPECT_TRUE(e2e::allClose(out, ref, e2e::Tolerance{1e-6, 1e-6}));
}

TEST(CudaTargetGpuCache, DiskHitLaunchesAndARejectedCubinIsRecompiled) {
  const cuda::Driver *drv = cuda::Driver::get();
  if (!drv || !drv->ensureContext(0))
    GTEST_SKIP() << "no GPU";
  TempDir dir;
  ContextOptions co;
  co.diskCache.dir = dir.str();
  if (!resolveDiskCacheOptions(co.diskCache).enabled)
    GTEST_SKIP() << "MINI_TRITON_CACHE_DISABLE is set";
  const int64_t n = 5000;
  size_t nvrtc = cuda::nvrtcCompileCount();
  {
    Context cold(co);
    e2e::KernelPtr k;
    ASSERT_COMPILES(k,
                    e2e::compileFile(cold, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
    CacheStats s = cold.cacheStats();
    EXPECT_EQ(s.diskMisses, 1u);
    EXPECT_EQ(s.diskWrites, 1u);
    EXPECT_FALSE(s.lastGpuCompileHit);
    expectVectorAddWorks(k, n, 81);
  }
  EXPECT_EQ(cuda::nvrtcCompileCount(), nvrtc + 1);
  ASSERT_EQ(dir.files().size(), 1u);
  std::string key = dir.files()[0].substr(0, 64);
  KernelCache reader(dir.str());
  auto original = reader.get(key);
  ASSERT_TRUE(original);
  {
    Context warm(co); // a new Context: an empty memory cache, as in a new process
    e2e::KernelPtr k;
    ASSERT_COMPILES(k,
                    e2e::compileFile(warm, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
    CacheStats s = warm.cacheStats();
    EXPECT_EQ(s.diskHits, 1u);
    EXPECT_EQ(s.diskMisses, 0u);
    EXPECT_TRUE(s.lastGpuCompileHit);
    EXPECT_EQ(cuda::nvrtcCompileCount(), nvrtc + 1) << "a disk hit must not call NVRTC";
    EXPECT_EQ(k->name(), "add_kernel");
    EXPECT_EQ(k->runtimeParams().size(), 4u);
    EXPECT_NE(k->irText().find("func @add_kernel"), std::string::npos) << k->irText();
    expectVectorAddWorks(k, n, 82);
    // The memory cache answers the same compile again.
    ASSERT_COMPILES(k,
                    e2e::compileFile(warm, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
    EXPECT_EQ(warm.cacheStats().memoryHits, 1u);
  }
  // An intact entry (checksum and metadata fine) whose cubin the driver rejects: dropped, recompiled,
  // rewritten.
  // (Not ELF, so the driver takes it for PTX text, NUL-terminated so that it reads no further, and fails.)
  const std::string notACubin = "this is not a cubin {";
  ASSERT_TRUE(reader.put(key, original->metadata,
                         std::vector<char>(notACubin.c_str(), notACubin.c_str() + notACubin.size() + 1)));
  {
    Context rejected(co);
    e2e::KernelPtr k;
    ASSERT_COMPILES(
        k, e2e::compileFile(rejected, "vector_add.py", "add_kernel", vectorAddSpecs(n), cudaOptions()));
    CacheStats s = rejected.cacheStats();
    EXPECT_EQ(s.diskCorrupt, 1u);
    EXPECT_EQ(s.diskMisses, 1u);
    EXPECT_EQ(s.diskWrites, 1u);
    EXPECT_EQ(cuda::nvrtcCompileCount(), nvrtc + 2);
    expectVectorAddWorks(k, n, 84);
  }
  auto rewritten = reader.get(key);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(rewritten->binary, original->binary);
  // useDiskCache = false compiles afresh and leaves the entry alone.
  {
    Context bypass(co);
    CompileOptions o = cudaOptions();
    o.useDiskCache = false;
    e2e::KernelPtr k;
    ASSERT_COMPILES(k, e2e::compileFile(bypass, "vector_add.py", "add_kernel", vectorAddSpecs(n), o));
    EXPECT_EQ(bypass.cacheStats().diskHits + bypass.cacheStats().diskMisses, 0u);
    EXPECT_EQ(cuda::nvrtcCompileCount(), nvrtc + 3);
  }
}

TEST(CudaBinaryCache, DumpAndOverrideDirectories) {
  REQUIRE_NVRTC();
  TempDir cacheDir, dumpDir, overrideDir;
  KernelCache cache(cacheDir.str());
  auto src = KernelSource::fromFile(e2e::kernelPath("vector_add.py"), "add_kernel");
  ASSERT_TRUE(src) << src.error();
  // MINI_TRITON_DUMP_DIR: the generated source, as compiled.
  setenv("MINI_TRITON_DUMP_DIR", dumpDir.str().c_str(), 1);
  SourceManager sources1;
  ir::TypeContext types1;
  auto plain = compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources1, types1);
  unsetenv("MINI_TRITON_DUMP_DIR");
  ASSERT_TRUE(plain) << plain.error();
  std::string dumped = readAll(dumpDir.path() / "add_kernel.cu");
  EXPECT_EQ(dumped, plain->kernel.source);
  EXPECT_EQ(cache.stats().writes, 1u);

  // MINI_TRITON_OVERRIDE_DIR: that file, edited, is compiled instead, past the disk cache (a hit would hide
  // the edit) and not stored; a kernel without a file there compiles as generated.
  writeAll(overrideDir.path() / "add_kernel.cu", dumped + "\n#error hand-edited copy\n");
  setenv("MINI_TRITON_OVERRIDE_DIR", overrideDir.str().c_str(), 1);
  SourceManager sources2;
  ir::TypeContext types2;
  auto edited =
      compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources2, types2);
  ASSERT_FALSE(edited);
  EXPECT_NE(edited.error().message.find("hand-edited copy"), std::string::npos) << edited.error();
  writeAll(overrideDir.path() / "add_kernel.cu", dumped + "\n// hand-edited copy\n");
  auto fine = compileCudaBinary(*src, vectorAddSpecs(64), cudaOptions(), "sm_90a", &cache, sources2, types2);
  ASSERT_TRUE(fine) << fine.error();
  EXPECT_FALSE(fine->fromDiskCache);
  EXPECT_NE(fine->kernel.source.find("// hand-edited copy"), std::string::npos);
  auto other = KernelSource::fromFile(e2e::kernelPath("softmax.py"), "softmax_kernel");
  ASSERT_TRUE(other) << other.error();
  std::vector<ArgSpec> specs = {ArgSpec::pointer(DType::F32), ArgSpec::pointer(DType::F32),
                                ArgSpec::forInt(100),         ArgSpec::forInt(100),
                                ArgSpec::forInt(100),         ArgSpec::constant(int64_t(128))};
  auto untouched = compileCudaBinary(*other, specs, cudaOptions(), "sm_90a", &cache, sources2, types2);
  unsetenv("MINI_TRITON_OVERRIDE_DIR");
  ASSERT_TRUE(untouched) << untouched.error();
  EXPECT_EQ(untouched->kernel.source.find("hand-edited"), std::string::npos);
  EXPECT_EQ(cache.stats().writes, 1u) << "compiles under an override directory are not stored";
}

} // namespace
} // namespace mt::runtime
