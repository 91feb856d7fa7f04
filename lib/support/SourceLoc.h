// Source locations and the registry of source buffers they point into.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mt {

/// A position in a source buffer. `file == 0` means "unknown". Lines and columns count from 1.
struct SourceLoc {
  uint32_t file = 0;
  uint32_t line = 0;
  uint32_t col = 0;

  bool isValid() const { return file != 0 && line != 0; }
  friend bool operator==(const SourceLoc &, const SourceLoc &) = default;
};

/// Owns the text of every buffer a compilation reads (kernel files, IR files) so that diagnostics can
/// print the offending line. Thread-safe: buffers are only ever added.
class SourceManager {
public:
  /// Registers `text` under `name`; `lineOffset` is added to printed line numbers (a kernel extracted from
  /// the middle of a Python file reports lines of that file). Returns the id used in SourceLoc::file.
  uint32_t addBuffer(std::string name, std::string text, uint32_t lineOffset = 0);

  std::string_view name(uint32_t file) const;
  std::string_view text(uint32_t file) const;
  /// The text of line `line` (1-based, unshifted) without its newline; empty if out of range.
  std::string_view lineText(uint32_t file, uint32_t line) const;
  uint32_t lineOffset(uint32_t file) const;
  /// "name:line:col" with the buffer's line offset applied.
  std::string format(SourceLoc loc) const;

private:
  struct Buffer {
    std::string name;
    std::string text;
    uint32_t lineOffset;
    std::vector<uint32_t> lineStarts;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Buffer>> buffers_; // id = index + 1
  const Buffer *get(uint32_t file) const;
};

} // namespace mt
