// User-facing diagnostics: collected, rendered as `file:line:col: error: msg`, the source line and a caret.
//
// Library code never exits and never asserts on user input. A stage that finds a user error reports it
// here; where it cannot go on, it throws `CompileAbort`, which the public API catches and turns into a
// failed result carrying the collected diagnostics.
#pragma once

#include "support/SourceLoc.h"

#include <exception>
#include <sstream>
#include <string>
#include <vector>

namespace mt {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;
};

/// Thrown to unwind a compilation after an error has been reported to a Diagnostics.
struct CompileAbort : std::exception {
  const char *what() const noexcept override { return "compilation aborted"; }
};

class Diagnostics {
public:
  explicit Diagnostics(const SourceManager *sources = nullptr) : sources_(sources) {}

  void report(Severity severity, SourceLoc loc, std::string message);
  void error(SourceLoc loc, std::string message) { report(Severity::Error, loc, std::move(message)); }
  void warning(SourceLoc loc, std::string message) { report(Severity::Warning, loc, std::move(message)); }
  void note(SourceLoc loc, std::string message) { report(Severity::Note, loc, std::move(message)); }
  /// Reports an error and throws CompileAbort.
  [[noreturn]] void fatal(SourceLoc loc, std::string message);

  bool hasErrors() const { return numErrors_ > 0; }
  const std::vector<Diagnostic> &all() const { return diags_; }
  const SourceManager *sources() const { return sources_; }
  void clear() {
    diags_.clear();
    numErrors_ = 0;
  }

  /// One diagnostic as text: "file:line:col: error: msg\n<source line>\n    ^\n".
  std::string render(const Diagnostic &d) const;
  /// All diagnostics, rendered, in order.
  std::string renderAll() const;

private:
  const SourceManager *sources_;
  std::vector<Diagnostic> diags_;
  unsigned numErrors_ = 0;
};

/// Internal invariant check (a compiler bug, never a user error): `MT_ASSERT(x) << "why";` aborts with a
/// message naming the file and line of the check.
class AssertFailure {
public:
  AssertFailure(const char *cond, const char *file, int line);
  [[noreturn]] ~AssertFailure();
  template <typename T> AssertFailure &operator<<(const T &v) {
    msg_ << v;
    return *this;
  }

private:
  std::ostringstream msg_;
};

#define MT_ASSERT(cond)                                                                                      \
  if (cond) {                                                                                                \
  } else                                                                                                     \
    ::mt::AssertFailure(#cond, __FILE__, __LINE__)

} // namespace mt
