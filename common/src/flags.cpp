#include "nsrun/flags.hpp"

#include <csignal>
#include <cstring>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <utility>

#include <fmt/format.h>

namespace nsrun::flags {
namespace {

struct Name {
    unsigned long bit;
    const char* name;
};

/// Joins the names of the bits set in `value`; unknown bits are shown in hex.
template <std::size_t N>
std::string join(unsigned long value, const Name (&names)[N]) {
    std::string out;
    for (const auto& [bit, name] : names) {
        if ((value & bit) == bit && bit != 0) {
            out += out.empty() ? "" : "|";
            out += name;
            value &= ~bit;
        }
    }
    if (value != 0) {
        out += fmt::format("{}{:#x}", out.empty() ? "" : "|", value);
    }
    return out.empty() ? "0" : out;
}

constexpr Name clone_names[] = {
    {CLONE_NEWUTS, "CLONE_NEWUTS"},       {CLONE_NEWPID, "CLONE_NEWPID"},
    {CLONE_NEWNS, "CLONE_NEWNS"},         {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    {CLONE_NEWUSER, "CLONE_NEWUSER"},     {CLONE_NEWNET, "CLONE_NEWNET"},
    {CLONE_NEWIPC, "CLONE_NEWIPC"},       {CLONE_NEWTIME, "CLONE_NEWTIME"},
    {CLONE_VM, "CLONE_VM"},               {CLONE_FS, "CLONE_FS"},
    {CLONE_FILES, "CLONE_FILES"},         {CLONE_SIGHAND, "CLONE_SIGHAND"},
    {CLONE_PIDFD, "CLONE_PIDFD"},         {CLONE_VFORK, "CLONE_VFORK"},
    {CLONE_PARENT, "CLONE_PARENT"},       {CLONE_THREAD, "CLONE_THREAD"},
    {CLONE_SYSVSEM, "CLONE_SYSVSEM"},     {CLONE_SETTLS, "CLONE_SETTLS"},
    {CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"},
    {CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
    {CLONE_UNTRACED, "CLONE_UNTRACED"},   {CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"},
    {CLONE_IO, "CLONE_IO"},
};

constexpr Name mount_names[] = {
    {MS_RDONLY, "MS_RDONLY"},         {MS_NOSUID, "MS_NOSUID"},
    {MS_NODEV, "MS_NODEV"},           {MS_NOEXEC, "MS_NOEXEC"},
    {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {MS_REMOUNT, "MS_REMOUNT"},
    {MS_MANDLOCK, "MS_MANDLOCK"},     {MS_DIRSYNC, "MS_DIRSYNC"},
    {MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"}, {MS_NOATIME, "MS_NOATIME"},
    {MS_NODIRATIME, "MS_NODIRATIME"}, {MS_BIND, "MS_BIND"},
    {MS_MOVE, "MS_MOVE"},             {MS_REC, "MS_REC"},
    {MS_SILENT, "MS_SILENT"},         {MS_POSIXACL, "MS_POSIXACL"},
    {MS_UNBINDABLE, "MS_UNBINDABLE"}, {MS_PRIVATE, "MS_PRIVATE"},
    {MS_SLAVE, "MS_SLAVE"},           {MS_SHARED, "MS_SHARED"},
    {MS_RELATIME, "MS_RELATIME"},     {MS_STRICTATIME, "MS_STRICTATIME"},
    {MS_LAZYTIME, "MS_LAZYTIME"},
};

constexpr Name flock_names[] = {
    {LOCK_SH, "LOCK_SH"}, {LOCK_EX, "LOCK_EX"}, {LOCK_UN, "LOCK_UN"}, {LOCK_NB, "LOCK_NB"},
};

constexpr Name umount_names[] = {
    {MNT_FORCE, "MNT_FORCE"}, {MNT_DETACH, "MNT_DETACH"},
    {MNT_EXPIRE, "MNT_EXPIRE"}, {UMOUNT_NOFOLLOW, "UMOUNT_NOFOLLOW"},
};

} // namespace

std::string clone_flags(unsigned long value) {
    // The low byte of clone's flags is the signal sent to the parent on exit.
    const unsigned long exit_signal = value & 0xff;
    std::string out = join(value & ~0xffUL, clone_names);
    if (exit_signal != 0) {
        out = (out == "0" ? "" : out + "|") + signal_name(static_cast<int>(exit_signal));
    }
    return out;
}

std::string mount_flags(unsigned long value) { return join(value, mount_names); }

std::string umount_flags(int value) { return join(static_cast<unsigned long>(value), umount_names); }

std::string signal_name(int sig) {
    if (const char* abbrev = sigabbrev_np(sig)) {
        return fmt::format("SIG{}", abbrev);
    }
    return fmt::format("signal {}", sig);
}

std::string signal_set(const sigset_t& set) {
    std::string out;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (::sigismember(&set, sig) == 1) {
            out += (out.empty() ? "" : " ") + signal_name(sig);
        }
    }
    return "[" + out + "]";
}

std::string sigprocmask_how(int how) {
    switch (how) {
    case SIG_BLOCK: return "SIG_BLOCK";
    case SIG_UNBLOCK: return "SIG_UNBLOCK";
    case SIG_SETMASK: return "SIG_SETMASK";
    default: return std::to_string(how);
    }
}

std::string flock_operation(int operation) { return join(static_cast<unsigned long>(operation), flock_names); }

std::string namespace_type(int nstype) {
    // Only the namespace bits: clone_flags() would read a low byte as a signal.
    return nstype == 0 ? "0" : clone_flags(static_cast<unsigned long>(nstype) & ~0xffUL);
}

} // namespace nsrun::flags
