#include "nsrun/explain.hpp"

#include "nsrun/error.hpp"

#include <fmt/format.h>

namespace nsrun::explain {
namespace {
bool g_enabled = false;
std::string g_role = "parent";
} // namespace

void enable(bool on) noexcept { g_enabled = on; }
bool enabled() noexcept { return g_enabled; }
void set_role(std::string_view role) { g_role = role; }

void say(std::string_view line) {
    // One fputs per line keeps lines whole when parent and child both narrate.
    const std::string text = fmt::format("[{}] {}\n", g_role, line);
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string quote(const char* text) { return text ? quote(std::string_view{text}) : "NULL"; }

std::string quote(const std::vector<std::string>& argv) {
    std::string out = "[";
    for (std::size_t i = 0; i < argv.size(); ++i) {
        out += (i ? ", " : "") + quote(std::string_view{argv[i]});
    }
    return out + "]";
}

std::string result(long value, int err) {
    if (value == -1) {
        return fmt::format("= -1 {}", errno_text(err));
    }
    return fmt::format("= {}", value);
}

} // namespace nsrun::explain
