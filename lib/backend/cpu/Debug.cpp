// print (device_print) and assert (device_assert).
#include "backend/cpu/Exec.h"

#include <cstdio>

namespace mt::cpu {

namespace {

/// "(i, j)" for the flat index `flat` of `shape`.
std::string indexStr(const std::vector<int64_t> &shape, size_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
    idx[d] = int64_t(flat % size_t(shape[d]));
    flat /= size_t(shape[d]);
  }
  std::string s = "(";
  for (size_t d = 0; d < idx.size(); ++d)
    s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + ")";
}

} // namespace

void evalPrint(const ir::Operation &op, Operands in, Executor &ex) {
  std::string prefix = op.stringAttr("prefix");
  const auto &pid = ex.pid();
  std::string head = "pid (" + std::to_string(pid[0]) + ", " + std::to_string(pid[1]) + ", " +
                     std::to_string(pid[2]) + ") idx ";
  std::string text;
  if (in.empty())
    text = head + "() " + prefix + "\n";
  for (size_t j = 0; j < in.size(); ++j) {
    const Tile &t = *in[j];
    std::string operand = in.size() > 1 ? "(operand " + std::to_string(j) + ") " : "";
    for (size_t i = 0; i < t.numel(); ++i)
      text += head + indexStr(t.shape(), i) + " " + prefix + operand + t.format(i) + "\n";
  }
  std::lock_guard<std::mutex> lock(ex.launch().printMutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void evalAssert(const ir::Operation &op, const Tile &cond, Executor &ex) {
  if (cond.isPtr())
    fail("assert condition must be a number");
  for (size_t i = 0; i < cond.numel(); ++i) {
    if (cond.getDouble(i) == 0)
      fail("device_assert failed: " + op.stringAttr("message") + " " +
           ex.where(cond.rank() == 0 ? -1 : int64_t(i)));
  }
}

} // namespace mt::cpu
