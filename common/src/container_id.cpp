#include "nsrun/container_id.hpp"

#include <cstdint>
#include <ctime>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nsrun {

std::string make_container_id() {
    unsigned char bytes[6] = {};
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        // No entropy yet (very early boot): pid and time are unique enough here.
        const auto mix = static_cast<std::uint64_t>(::getpid()) << 32 ^ static_cast<std::uint64_t>(::time(nullptr));
        for (std::size_t i = 0; i < sizeof bytes; ++i) {
            bytes[i] = static_cast<unsigned char>(mix >> (8 * i));
        }
    }
    std::string id;
    for (const unsigned char b : bytes) {
        id += fmt::format("{:02x}", b);
    }
    return id;
}

bool is_container_id(const std::string& text) {
    return text.size() == 12 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace nsrun
