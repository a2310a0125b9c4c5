#include "names.hpp"

#include <nsrun/error.hpp>


#include <fmt/format.h>

namespace {
constexpr std::size_t max_name = 64;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
} // namespace

std::string name_problem(const std::string& name) {
    if (name.empty()) {
        return "a container name must not be empty";
    }
    if (name.size() > max_name) {
        return fmt::format("'{}…' is {} characters long; a container name has at most {}", name.substr(0, 16),
                           name.size(), max_name);
    }
    if (!is_alnum(name[0])) {
        return fmt::format("'{}' must start with a letter or a digit", name);
    }
    for (const char c : name) {
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
            return fmt::format("'{}' holds '{}': a container name is [a-zA-Z0-9][a-zA-Z0-9_.-]*", name, c);
        }
    }
    return {};
}

void check_name(const std::string& name) {
    if (const std::string problem = name_problem(name); !problem.empty()) {
        throw nsrun::Error{fmt::format("invalid container name: {}", problem),
                           "use letters, digits, '_', '.' and '-', starting with a letter or digit"};
    }
}

bool is_hex(const std::string& text) {
    return !text.empty() && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}
