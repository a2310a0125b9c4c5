/// @file explain.hpp
/// @brief `--explain`: narrate every kernel-level action as it happens.
///
/// The checked wrappers in sys.hpp call note() after each system call, so a
/// step gets a readable trace of what it asks the kernel for simply by using
/// them:
///
///     [parent] clone(CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD) = 4242
///     [child] sethostname("box") = 0
///
/// The role ("parent"/"child") is per process: the child sets its own right
/// after clone, and since clone without CLONE_VM copies memory, the parent's
/// role is untouched.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace nsrun::explain {

/// Turn narration on or off (off by default).
void enable(bool on) noexcept;
/// Whether narration is on.
[[nodiscard]] bool enabled() noexcept;
/// Name this process in the trace: "parent", "child", …
void set_role(std::string_view role);
/// Print one narrated line, prefixed with the role, to stderr.
void say(std::string_view line);

/// Narrate a formatted line when explain mode is on (formatting is skipped
/// otherwise, so the wrappers cost nothing when it is off).
template <typename... Args>
void note(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled()) {
        say(fmt::format(format, std::forward<Args>(args)...));
    }
}

/// A C string argument as strace shows it: "text" with escapes, or NULL.
std::string quote(const char* text);
/// A string argument as strace shows it: "text" with escapes.
std::string quote(std::string_view text);
/// An argument vector: ["sh", "-c", "echo hi"].
std::string quote(const std::vector<std::string>& argv);

/// The result of a call as strace shows it: "= 0" or "= -1 EPERM (Operation not permitted)".
std::string result(long value, int err);

} // namespace nsrun::explain
