// SHA-256 (FIPS 180-4), streamed: the digests that name every blob of an
// image (`sha256:<64 hex>`).  nsrun's libraries have no hash function and
// this kernel may lack AF_ALG, so it is here, in one small file; x86 CPUs
// with the SHA extensions take the hardware path (a few times faster).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

class Sha256 {
public:
    Sha256();
    /// Feed more bytes.
    void update(const void* data, std::size_t size);
    void update(std::string_view text) { update(text.data(), text.size()); }
    /// The digest as 64 lowercase hex digits; the object is spent afterwards.
    std::string hex();

    /// The hex digest of `text` at once.
    static std::string of(std::string_view text);

private:
    void compress(const std::uint8_t* blocks, std::size_t count);
    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_{};
    std::size_t buffered_ = 0;
    std::uint64_t total_ = 0;
};
