// SHA-256 (FIPS 180-4), for the keys and checksums of the on-disk kernel cache.
//
//   Sha256 h;
//   h.update("abc");
//   std::string hex = h.hexDigest(); // "ba7816bf..."
//
// update() may be called any number of times; updateField() adds a length prefix so that a sequence of
// fields hashes differently from any other sequence with the same concatenation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mt::runtime {

class Sha256 {
public:
  Sha256();
  void update(const void *data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  /// The field's length (8 bytes, little-endian), then its bytes.
  void updateField(std::string_view s);
  /// Finishes the hash; the object must not be updated afterwards.
  std::array<uint8_t, 32> digest();
  std::string hexDigest();

  /// One-shot helpers.
  static std::string hex(std::string_view s);
  static std::string hex(const void *data, size_t size);

private:
  void compress(const uint8_t *block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t totalBytes_ = 0;
  bool finished_ = false;
};

} // namespace mt::runtime
