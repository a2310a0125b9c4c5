/// @file flags.hpp
/// @brief Bit flags as the man pages spell them, for --explain and errors.
#pragma once

#include <csignal>
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
/// A signal set as strace shows it: "[SIGINT SIGTERM]".
std::string signal_set(const sigset_t& set);
/// sigprocmask(2)'s `how`: "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK".
std::string sigprocmask_how(int how);
/// flock(2)'s operation: "LOCK_EX|LOCK_NB".
std::string flock_operation(int operation);
/// setns(2)'s nstype: "CLONE_NEWNET", or "0" (any namespace).
std::string namespace_type(int nstype);

} // namespace nsrun::flags
