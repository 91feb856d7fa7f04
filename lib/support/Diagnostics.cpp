#include "support/Diagnostics.h"

#include <cstdio>
#include <cstdlib>

namespace mt {

void Diagnostics::report(Severity severity, SourceLoc loc, std::string message) {
  if (severity == Severity::Error)
    ++numErrors_;
  diags_.push_back({severity, loc, std::move(message)});
}

void Diagnostics::fatal(SourceLoc loc, std::string message) {
  error(loc, std::move(message));
  throw CompileAbort();
}

static const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

std::string Diagnostics::render(const Diagnostic &d) const {
  std::string out;
  if (sources_ && d.loc.file != 0)
    out += sources_->format(d.loc) + ": ";
  out += severityName(d.severity);
  out += ": " + d.message + "\n";
  if (!sources_ || !d.loc.isValid())
    return out;
  std::string_view line = sources_->lineText(d.loc.file, d.loc.line);
  if (line.empty())
    return out;
  out += line;
  out += "\n";
  // Keep tabs in the caret line so that the caret lines up under tab-indented code.
  for (uint32_t i = 1; i < d.loc.col && i <= line.size(); ++i)
    out += line[i - 1] == '\t' ? '\t' : ' ';
  out += "^\n";
  return out;
}

std::string Diagnostics::renderAll() const {
  std::string out;
  for (const Diagnostic &d : diags_)
    out += render(d);
  return out;
}

AssertFailure::AssertFailure(const char *cond, const char *file, int line) {
  msg_ << file << ":" << line << ": internal compiler error: assertion `" << cond << "` failed: ";
}

AssertFailure::~AssertFailure() {
  std::fprintf(stderr, "%s\n", msg_.str().c_str());
  std::abort();
}

} // namespace mt
