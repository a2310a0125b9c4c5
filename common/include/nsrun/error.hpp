/// @file error.hpp
/// @brief Errors that carry what failed, why, and how to fix it.
///
/// Every failure the runtime reports names the call, the object it acted on
/// and the errno text, and where we can tell, a hint ("run as root").  The
/// exit status follows docker: 125 for a runtime error, 126 when the command
/// cannot be executed, 127 when it is not found.
#pragma once

#include <stdexcept>
#include <string>

namespace nsrun {

/// Exit statuses shared by every step and the final runtime (docker's).
namespace exit_code {
inline constexpr int runtime_error = 125;  ///< the runtime itself failed
inline constexpr int cannot_execute = 126; ///< COMMAND exists but exec failed
inline constexpr int not_found = 127;      ///< COMMAND was not found
inline constexpr int signal_base = 128;    ///< 128+N: COMMAND died of signal N
} // namespace exit_code

/// A runtime failure with a one-line message, an optional hint and the exit
/// status it should produce.
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, std::string hint = {},
                   int exit_status = exit_code::runtime_error);

    /// What the user can do about it, or empty.
    [[nodiscard]] const std::string& hint() const noexcept { return hint_; }
    /// The process exit status this error maps to (125 unless stated).
    [[nodiscard]] int exit_status() const noexcept { return exit_status_; }

private:
    std::string hint_;
    int exit_status_;
};

/// A failed system call: `mount("proc", "/proc", ...) failed: Operation not permitted`.
class SysError : public Error {
public:
    /// @param call  the call as the user should read it, with its arguments
    /// @param err   the errno value it failed with
    SysError(std::string call, int err);

    [[nodiscard]] int error_number() const noexcept { return errno_; }
    [[nodiscard]] const std::string& call() const noexcept { return call_; }

private:
    std::string call_;
    int errno_;
};

/// errno as text: "ENOENT (No such file or directory)".
std::string errno_text(int err);

/// The symbolic name of an errno value ("ENOENT"), or its number.
std::string errno_name(int err);

/// A hint for a failed call, or empty: EPERM → "run as root", …
std::string hint_for(const std::string& call, int err);

} // namespace nsrun
