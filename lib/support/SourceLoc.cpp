#include "support/SourceLoc.h"

namespace mt {

uint32_t SourceManager::addBuffer(std::string name, std::string text, uint32_t lineOffset) {
  auto buf = std::make_unique<Buffer>();
  buf->name = std::move(name);
  buf->text = std::move(text);
  buf->lineOffset = lineOffset;
  buf->lineStarts.push_back(0);
  for (uint32_t i = 0; i < buf->text.size(); ++i)
    if (buf->text[i] == '\n')
      buf->lineStarts.push_back(i + 1);
  std::lock_guard lock(mutex_);
  buffers_.push_back(std::move(buf));
  return static_cast<uint32_t>(buffers_.size());
}

const SourceManager::Buffer *SourceManager::get(uint32_t file) const {
  std::lock_guard lock(mutex_);
  if (file == 0 || file > buffers_.size())
    return nullptr;
  return buffers_[file - 1].get();
}

std::string_view SourceManager::name(uint32_t file) const {
  const Buffer *b = get(file);
  return b ? std::string_view(b->name) : std::string_view("<unknown>");
}

std::string_view SourceManager::text(uint32_t file) const {
  const Buffer *b = get(file);
  return b ? std::string_view(b->text) : std::string_view();
}

uint32_t SourceManager::lineOffset(uint32_t file) const {
  const Buffer *b = get(file);
  return b ? b->lineOffset : 0;
}

std::string_view SourceManager::lineText(uint32_t file, uint32_t line) const {
  const Buffer *b = get(file);
  if (!b || line == 0 || line > b->lineStarts.size())
    return {};
  uint32_t start = b->lineStarts[line - 1];
  uint32_t end = line < b->lineStarts.size() ? b->lineStarts[line] - 1 : b->text.size();
  std::string_view sv(b->text);
  sv = sv.substr(start, end - start);
  if (!sv.empty() && sv.back() == '\r')
    sv.remove_suffix(1);
  return sv;
}

std::string SourceManager::format(SourceLoc loc) const {
  if (!loc.isValid())
    return std::string(name(loc.file));
  return std::string(name(loc.file)) + ":" + std::to_string(loc.line + lineOffset(loc.file)) + ":" +
         std::to_string(loc.col);
}

} // namespace mt
