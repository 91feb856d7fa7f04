// ProcessMaps: which addresses of this process are readable / writable, from /proc/self/maps, so that the
// interpreter can refuse a raw address (an integer cast to a pointer) that does not point at memory.
#include "backend/cpu/Exec.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mt::cpu {

void ProcessMaps::reload() {
  ranges_.clear();
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line)) {
    // "lo-hi perms offset dev inode [path]"
    std::istringstream ls(line);
    std::string span, perms;
    if (!(ls >> span >> perms) || perms.size() < 2)
      continue;
    size_t dash = span.find('-');
    if (dash == std::string::npos)
      continue;
    Range r;
    r.lo = std::stoull(span.substr(0, dash), nullptr, 16);
    r.hi = std::stoull(span.substr(dash + 1), nullptr, 16);
    r.readable = perms[0] == 'r';
    r.writable = perms[1] == 'w';
    ranges_.push_back(r);
  }
  std::sort(ranges_.begin(), ranges_.end(), [](const Range &a, const Range &b) { return a.lo < b.lo; });
}

const ProcessMaps::Range *ProcessMaps::find(uint64_t addr) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), addr,
                             [](uint64_t a, const Range &r) { return a < r.lo; });
  if (it == ranges_.begin())
    return nullptr;
  --it;
  return addr < it->hi ? &*it : nullptr;
}

bool ProcessMaps::accessible(uint64_t addr, size_t n, bool write) {
  if (n == 0 || addr + n < addr)
    return false;
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt == 1 || ranges_.empty())
      reload(); // mappings made since the last read (new tensors)
    bool ok = true;
    for (uint64_t a = addr; a < addr + n && ok;) {
      const Range *r = find(a);
      ok = r && r->readable && (!write || r->writable);
      if (ok)
        a = r->hi;
    }
    if (ok)
      return true;
  }
  return false;
}

} // namespace mt::cpu
