/// @file identity.hpp
/// @brief Who owns a resource: a process named by pid *and* start time.
///
/// A pid alone does not name a process for long: when it ends, the kernel
/// hands the same number to a later process.  A record that says "owned by
/// pid 4242" (a lease, a port mapping, a container's state) would then be
/// taken for alive forever, or — worse — a signal meant for a dead
/// container would reach a stranger.  crun's answer, ours too: record the
/// pid together with the process's start time (field 22 of /proc/PID/stat,
/// in clock ticks since boot), and call the owner alive only while a
/// process with that pid exists *and* started at that time.
#pragma once

#include "nsrun/fd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace nsrun {

struct ProcessIdentity {
    pid_t pid = 0;
    /// Clock ticks after boot at which the process started (/proc/PID/stat
    /// field 22); 0 = unknown (a record written by an older runtime), and
    /// then liveness falls back to the bare pid.
    std::uint64_t start_time = 0;

    /// The identity of process `pid` now, or nullopt if there is none.
    [[nodiscard]] static std::optional<ProcessIdentity> of(pid_t pid);
    /// The calling process's identity.
    [[nodiscard]] static ProcessIdentity self();

    /// As stored in a record: "PID START_TIME".
    [[nodiscard]] std::string str() const;
    /// The inverse of str() (surrounding whitespace ignored).  A bare "PID"
    /// gives start_time 0.  Empty or garbled text gives nullopt: such a
    /// record names nobody.
    [[nodiscard]] static std::optional<ProcessIdentity> parse(std::string_view text);

    friend bool operator==(const ProcessIdentity&, const ProcessIdentity&) = default;
};

/// Field 22 (starttime) of a /proc/PID/stat line, and whether the process
/// is a zombie ('Z') or dead ('X') — field 3.  The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last ')'.
struct ProcStat {
    char state = '?';
    std::uint64_t start_time = 0;
};
[[nodiscard]] std::optional<ProcStat> parse_proc_stat(std::string_view line);

/// Whether the process `identity` names is still running: its pid exists,
/// it is not a zombie, and (when known) it started at the recorded time.
[[nodiscard]] bool is_alive(const ProcessIdentity& identity);

/// A pidfd (pidfd_open(2)) of the process `identity` names, if it still is
/// that process: is_alive() is asked again after opening, so the descriptor
/// can never name a later process that got the same pid.  Empty if the
/// process is gone.  It turns readable (poll POLLIN) when the process exits.
[[nodiscard]] UniqueFd open_pidfd(const ProcessIdentity& identity);

/// Whether the owner record in the file `path` (a lease, a container's pid
/// file: "PID START_TIME") names an owner that is gone: its process is dead
/// or now another one, or the record names nobody — the file is missing,
/// empty or garbled, as a runtime killed while making it leaves it.  Ask it
/// under the lock the record's writer holds while writing, so that no writer
/// is half-way through.  A file that cannot be read otherwise is not gone.
[[nodiscard]] bool record_owner_is_gone(const std::string& path);

} // namespace nsrun
