// The on-disk cache of compiled kernels: one file per key holding JSON metadata and a binary (a cubin).
//
//   KernelCache cache(resolveDiskCacheOptions({}).dir);
//   if (auto e = cache.get(key)) use(e->metadata, e->binary);       // a hit: the entry is intact
//   else cache.put(key, metadata, binary);                           // atomic: temp file + rename
//
// Keys are lowercase hex strings (a SHA-256). An entry file `<dir>/<key>.mtk` is
//   MTKC <format> <sha256 of payload> <metadata bytes> <binary bytes>\n  payload = metadata JSON + binary
// so that truncation, flipped bytes and garbage are all detected; a bad entry is removed and reported as
// a miss (the caller recompiles and rewrites it). Writers write a temp file in the same directory and
// rename it over the entry, so readers and concurrent writers only ever see whole entries. An unwritable
// directory gives one notice and a cache that only reads. Thread-safe.
#pragma once

#include "mt/mt.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mt::runtime {

/// `opts` with the environment applied: an empty dir becomes $MINI_TRITON_CACHE_DIR, else
/// $XDG_CACHE_HOME/mini_triton, else $HOME/.cache/mini_triton (disabled if none is set);
/// MINI_TRITON_CACHE_DISABLE (not "" or "0") disables; MINI_TRITON_CACHE_LOG (not "" or "0") turns the
/// log on. `getenv` is injectable for tests.
DiskCacheOptions resolveDiskCacheOptions(DiskCacheOptions opts,
                                         const std::function<const char *(const char *)> &getenv = nullptr);

struct KernelCacheEntry {
  nlohmann::json metadata; // a JSON object; "key" holds the entry's key
  std::vector<char> binary;
};

class KernelCache {
public:
  /// Entries live in `dir` (created on the first put). Notices (an unwritable directory, a corrupt entry
  /// when logging) go to `notices` (null: std::cerr); `log` also reports every get and put there.
  explicit KernelCache(std::string dir, bool log = false, std::ostream *notices = nullptr);

  /// The intact entry stored under `key`, or nullopt: absent, or corrupt (then removed; `why` says what
  /// was wrong, and the corrupt counter grows).
  std::optional<KernelCacheEntry> get(const std::string &key, std::string *why = nullptr);
  /// Stores an entry (metadata must be a JSON object; its "key" is set to `key`). False when the
  /// directory cannot be written (noticed once; later puts return false at once).
  bool put(const std::string &key, nlohmann::json metadata, const std::vector<char> &binary);
  /// Drops an entry found bad after get() (e.g. a cubin the driver rejected); counted as corrupt.
  void discard(const std::string &key, const std::string &why);

  /// Removes temp files (of writers that died before their rename) older than `olderThan`; the first put
  /// of each KernelCache does this with the default age.
  void removeStaleTempFiles(std::chrono::seconds olderThan = std::chrono::hours(1));

  const std::string &dir() const { return dir_; }
  std::string pathFor(const std::string &key) const;
  bool logging() const { return log_; }
  /// Writes one line to the notice stream (serialised between threads).
  void notice(const std::string &line) const;

  struct Stats {
    size_t hits = 0, misses = 0, corrupt = 0, writes = 0, writeFailures = 0;
  };
  Stats stats() const;

  static constexpr int kFormat = 1;

private:
  std::string dir_;
  bool log_;
  std::ostream *notices_;
  mutable std::mutex noticeMutex_;
  std::atomic<bool> unwritable_{false};
  std::atomic<bool> sweptTempFiles_{false};
  std::atomic<size_t> hits_{0}, misses_{0}, corrupt_{0}, writes_{0}, writeFailures_{0};
};

} // namespace mt::runtime
