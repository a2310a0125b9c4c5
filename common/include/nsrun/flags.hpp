/// @file flags.hpp
/// @brief Bit flags as the man pages spell them, for --explain and errors.
#pragma once

#include <string>

namespace nsrun::flags {

/// clone(2)/unshare(2) flags: "CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD".
std::string clone_flags(unsigned long flags);
/// mount(2) flags: "MS_BIND|MS_REC", or "0".
std::string mount_flags(unsigned long flags);
/// umount2(2) flags: "MNT_DETACH", or "0".
std::string umount_flags(int flags);
/// A signal number as its name: "SIGTERM".
std::string signal_name(int sig);

} // namespace nsrun::flags
