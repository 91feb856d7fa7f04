#include "runtime/KernelCache.h"

#include "runtime/Sha256.h"
#include "support/Diagnostics.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace mt::runtime {

namespace fs = std::filesystem;

namespace {

constexpr const char *kMagic = "MTKC";

bool envFlag(const char *v) { return v && *v && std::string_view(v) != "0"; }

bool validKey(const std::string &key) {
  if (key.empty() || key.size() > 128)
    return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

/// Reads the whole file; nullopt if it cannot be opened (absent: the usual miss).
std::optional<std::string> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes all of `data` to `fd`; false (errno set) on failure.
bool writeAll(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

/// Checks an entry file's text; on success fills `entry`, otherwise says why not.
bool parseEntry(const std::string &key, const std::string &text, KernelCacheEntry &entry, std::string &why) {
  size_t eol = text.find('\n');
  if (eol == std::string::npos || eol > 256) {
    why = "no header line";
    return false;
  }
  std::istringstream header(text.substr(0, eol));
  std::string magic, checksum;
  int format = 0;
  size_t metaBytes = 0, binBytes = 0;
  if (!(header >> magic >> format >> checksum >> metaBytes >> binBytes) || magic != kMagic) {
    why = "bad header";
    return false;
  }
  if (format != KernelCache::kFormat) {
    why = "format " + std::to_string(format) + ", expected " + std::to_string(KernelCache::kFormat);
    return false;
  }
  size_t payload = text.size() - eol - 1;
  if (metaBytes > payload || binBytes != payload - metaBytes) {
    why = "size mismatch (header says " + std::to_string(metaBytes) + " + " + std::to_string(binBytes) +
          " bytes, the file holds " + std::to_string(payload) + ")";
    return false;
  }
  std::string_view body(text.data() + eol + 1, payload);
  if (Sha256::hex(body) != checksum) {
    why = "checksum mismatch";
    return false;
  }
  nlohmann::json meta = nlohmann::json::parse(body.substr(0, metaBytes), nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object()) {
    why = "metadata is not a JSON object";
    return false;
  }
  auto k = meta.find("key");
  if (k == meta.end() || !k->is_string() || k->get<std::string>() != key) {
    why = "the entry belongs to another key";
    return false;
  }
  entry.metadata = std::move(meta);
  entry.binary.assign(body.begin() + std::ptrdiff_t(metaBytes), body.end());
  return true;
}

} // namespace

DiskCacheOptions resolveDiskCacheOptions(DiskCacheOptions opts,
                                         const std::function<const char *(const char *)> &getenv) {
  auto env = [&](const char *name) -> const char * { return getenv ? getenv(name) : std::getenv(name); };
  if (envFlag(env("MINI_TRITON_CACHE_DISABLE")))
    opts.enabled = false;
  if (envFlag(env("MINI_TRITON_CACHE_LOG")))
    opts.log = true;
  if (opts.dir.empty()) {
    if (const char *d = env("MINI_TRITON_CACHE_DIR"); d && *d)
      opts.dir = d;
    else if (const char *x = env("XDG_CACHE_HOME"); x && *x)
      opts.dir = (fs::path(x) / "mini_triton").string();
    else if (const char *h = env("HOME"); h && *h)
      opts.dir = (fs::path(h) / ".cache" / "mini_triton").string();
  }
  if (opts.dir.empty())
    opts.enabled = false; // nowhere to put it
  return opts;
}

KernelCache::KernelCache(std::string dir, bool log, std::ostream *notices)
    : dir_(std::move(dir)), log_(log), notices_(notices) {}

std::string KernelCache::pathFor(const std::string &key) const {
  return (fs::path(dir_) / (key + ".mtk")).string();
}

void KernelCache::notice(const std::string &line) const {
  std::lock_guard lock(noticeMutex_);
  std::ostream &os = notices_ ? *notices_ : std::cerr;
  os << line << '\n';
  os.flush();
}

std::optional<KernelCacheEntry> KernelCache::get(const std::string &key, std::string *why) {
  MT_ASSERT(validKey(key)) << "kernel cache keys are lowercase hex, got '" << key << "'";
  std::string path = pathFor(key);
  std::optional<std::string> text = readFile(path);
  if (!text) {
    ++misses_;
    if (why)
      *why = "no entry";
    return std::nullopt;
  }
  KernelCacheEntry entry;
  std::string reason;
  if (!parseEntry(key, *text, entry, reason)) {
    ++corrupt_;
    ++misses_;
    std::error_code ec;
    fs::remove(path, ec);
    if (log_)
      notice("mini_triton cache: dropped corrupt entry " + path + " (" + reason + ")");
    if (why)
      *why = reason;
    return std::nullopt;
  }
  ++hits_;
  return entry;
}

bool KernelCache::put(const std::string &key, nlohmann::json metadata, const std::vector<char> &binary) {
  MT_ASSERT(validKey(key)) << "kernel cache keys are lowercase hex, got '" << key << "'";
  MT_ASSERT(metadata.is_object()) << "kernel cache metadata must be a JSON object";
  if (unwritable_)
    return false;
  metadata["key"] = key;
  std::string meta = metadata.dump();
  Sha256 sum;
  sum.update(meta);
  sum.update(binary.data(), binary.size());
  std::string header = std::string(kMagic) + " " + std::to_string(kFormat) + " " + sum.hexDigest() + " " +
                       std::to_string(meta.size()) + " " + std::to_string(binary.size()) + "\n";

  auto fail = [&](const std::string &what) {
    ++writeFailures_;
    if (!unwritable_.exchange(true))
      notice("mini_triton: cannot write the kernel cache in " + dir_ + " (" + what +
             "); compiling without storing kernels there");
    return false;
  };
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec)
    return fail(ec.message());
  if (!sweptTempFiles_.exchange(true))
    removeStaleTempFiles();
  // A unique temp name in the same directory (rename is atomic only within a file system).
  static std::atomic<unsigned> counter{0};
  std::string tmp = (fs::path(dir_) / ("." + key + "." + std::to_string(::getpid()) + "." +
                                       std::to_string(counter++) + ".tmp"))
                        .string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return fail(std::strerror(errno));
  bool ok = writeAll(fd, header.data(), header.size()) && writeAll(fd, meta.data(), meta.size()) &&
            writeAll(fd, binary.data(), binary.size());
  std::string err = ok ? "" : std::strerror(errno);
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = std::strerror(errno);
  }
  if (ok && ::rename(tmp.c_str(), pathFor(key).c_str()) != 0) {
    ok = false;
    err = std::strerror(errno);
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return fail(err);
  }
  ++writes_;
  return true;
}

void KernelCache::discard(const std::string &key, const std::string &why) {
  MT_ASSERT(validKey(key)) << "kernel cache keys are lowercase hex, got '" << key << "'";
  ++corrupt_;
  std::error_code ec;
  fs::remove(pathFor(key), ec);
  if (log_)
    notice("mini_triton cache: dropped entry " + pathFor(key) + " (" + why + ")");
}

void KernelCache::removeStaleTempFiles(std::chrono::seconds olderThan) {
  // Temp files of writers that died between open and rename; live writers finish within seconds.
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] != '.' || !name.ends_with(".tmp"))
      continue;
    std::error_code tec;
    auto written = fs::last_write_time(it->path(), tec);
    if (!tec && now - written > olderThan)
      fs::remove(it->path(), tec);
  }
}

KernelCache::Stats KernelCache::stats() const {
  return {hits_.load(), misses_.load(), corrupt_.load(), writes_.load(), writeFailures_.load()};
}

} // namespace mt::runtime
