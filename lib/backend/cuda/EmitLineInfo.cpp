// `#line` directives that attribute the generated CUDA to the kernel source.
//
// A directive names the line of the *next* physical line; every later line counts on from it. So the
// emitter tracks where the compiler presumes the next line to be and writes a directive only where that
// differs from the current op's line: the first line of each op, then each further line of a multi-line
// op (short form `#line N`, the file unchanged), so that none of an op's statements is attributed to a
// neighbouring kernel line. Lines emitted between ops keep the last op's line.
//
//     #line 12 "/home/me/kernels.py"
//     mt::f32 v3[8];
//     #line 12
//     #pragma unroll
#include "backend/cuda/EmitterImpl.h"

#include <algorithm>
#include <cstdio>

namespace mt::cuda::detail {

namespace {

/// `name` as a C string literal: backslashes and control characters escaped. A double quote becomes a
/// single one: NVRTC copies the name into PTX's `.file` as written, and ptxas rejects an escaped quote.
std::string quoted(std::string_view name) {
  std::string r = "\"";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"') {
      r += '\'';
    } else if (c == '\\') {
      r += '\\';
      r += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", unsigned(u)); // three digits: never merges with a digit
      r += buf;
    } else {
      r += c;
    }
  }
  return r + "\"";
}

} // namespace

void KernelEmitter::lineDirective(const std::string &text) {
  const SourceManager *sm = diag_.sources();
  SourceLoc want = loc_.isValid() ? loc_ : lastLoc_;
  if (!opts_.lineDirectives || !sm || !want.isValid() || sm->name(want.file).empty())
    return;
  uint32_t wantLine = want.line + sm->lineOffset(want.file);
  if (presumedFile_ != want.file || presumedLine_ != wantLine) {
    std::string d = std::string(size_t(indent_) * 2, ' ') + "#line " + std::to_string(wantLine);
    if (presumedFile_ != want.file)
      d += " " + quoted(sm->name(want.file));
    out_ << d << "\n";
    presumedFile_ = want.file;
    presumedLine_ = wantLine;
  }
  // The caller writes `text` and its newline: the lines after it count on.
  presumedLine_ += 1 + uint32_t(std::count(text.begin(), text.end(), '\n'));
}

} // namespace mt::cuda::detail
