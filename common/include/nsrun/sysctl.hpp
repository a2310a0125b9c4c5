/// @file sysctl.hpp
/// @brief Kernel parameters (man 8 sysctl) through /proc/sys, narrated.
///
/// "net.ipv4.ip_forward" is the file /proc/sys/net/ipv4/ip_forward.  The
/// net.* ones belong to the network namespace of the process that opens
/// them, like every netlink socket: the parent writes the host's, the child
/// its container's.
#pragma once

#include <string>

namespace nsrun::sysctl {

/// The /proc/sys file of `key`: dots become slashes.
[[nodiscard]] std::string path_of(const std::string& key);
/// Write a sysctl (narrated by sys::write_file, e.g.
/// `write("/proc/sys/net/ipv4/ip_forward", "1") = 1`).
void write(const std::string& key, const std::string& value);
/// Read one, without its trailing newline.
[[nodiscard]] std::string read(const std::string& key);

} // namespace nsrun::sysctl
