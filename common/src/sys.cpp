#include "nsrun/sys.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"
#include "nsrun/flags.hpp"

#include <cerrno>
#include <cstring>
#include <type_traits>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace nsrun::sys {
namespace {

/// Narrates `call` with its result and throws when it failed.
/// `rc` is the raw return value; errno is read before anything else runs.
/// `call` is the call's text, or a function that makes it: it is made only
/// when narrating or failing, so a start that succeeds without --explain
/// pays nothing for formatting flag names (docs/bench.md measured 5 % of a
/// start in signal_name and clone_flags).
template <typename Call>
long checked(long rc, const Call& call) {
    const int err = rc == -1 ? errno : 0;
    if (rc != -1 && !explain::enabled()) {
        return rc;
    }
    std::string text;
    if constexpr (std::is_invocable_v<Call>) {
        text = call();
    } else {
        text = call;
    }
    explain::note("{} {}", text, explain::result(rc, err));
    if (rc == -1) {
        throw SysError(text, err);
    }
    return rc;
}

std::string q(const std::string& s) { return explain::quote(std::string_view{s}); }

} // namespace

void sethostname(const std::string& name) {
    checked(::sethostname(name.data(), name.size()), [&] { return fmt::format("sethostname({})", q(name)); });
}

void mount(const char* source, const std::string& target, const char* fstype,
           unsigned long flags, const char* data) {
    checked(::mount(source, target.c_str(), fstype, flags, data), [&] {
        return fmt::format("mount({}, {}, {}, {}{})", explain::quote(source), q(target), explain::quote(fstype),
                           flags::mount_flags(flags), data ? fmt::format(", {}", explain::quote(data)) : "");
    });
}

void umount2(const std::string& target, int flags) {
    checked(::umount2(target.c_str(), flags),
            [&] { return fmt::format("umount2({}, {})", q(target), flags::umount_flags(flags)); });
}

void pivot_root(const std::string& new_root, const std::string& put_old) {
    checked(::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()),
            [&] { return fmt::format("pivot_root({}, {})", q(new_root), q(put_old)); });
}

void chdir(const std::string& path) {
    checked(::chdir(path.c_str()), [&] { return fmt::format("chdir({})", q(path)); });
}

void fchdir(int fd, const std::string& shown_as) {
    checked(::fchdir(fd), [&] { return fmt::format("fchdir({} <{}>)", fd, shown_as); });
}

UniqueFd open_tree_clone(int dirfd, const std::string& shown_as, bool recursive) {
    const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0U);
    const long fd = checked(::open_tree(dirfd, "", flags), [&] {
        return fmt::format("open_tree({} <{}>, \"\", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|{}AT_EMPTY_PATH)", dirfd, shown_as,
                           recursive ? "AT_RECURSIVE|" : "");
    });
    return UniqueFd{static_cast<int>(fd)};
}

void move_mount(int from, int to, const std::string& to_shown_as) {
    checked(::move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
            [&] { return fmt::format("move_mount({}, \"\", {} <{}>, \"\", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)", from,
                        to, to_shown_as); });
}

void mkdir(const std::string& path, mode_t mode, bool exist_ok) {
    const int rc = ::mkdir(path.c_str(), mode);
    if (rc == -1 && errno == EEXIST && exist_ok) {
        if (explain::enabled()) {
            explain::note("mkdir({}, {:#o}) = -1 EEXIST (already there, fine)", q(path), mode);
        }
        return;
    }
    checked(rc, [&] { return fmt::format("mkdir({}, {:#o})", q(path), mode); });
}

void rmdir(const std::string& path) {
    checked(::rmdir(path.c_str()), [&] { return fmt::format("rmdir({})", q(path)); });
}

int try_rmdir(const std::string& path) noexcept {
    const int rc = ::rmdir(path.c_str());
    const int err = rc == -1 ? errno : 0;
    if (explain::enabled()) {
        try {
            explain::note("rmdir({}) {}", q(path), explain::result(rc, err));
        } catch (...) {
            // narration is best effort here
        }
    }
    return err;
}

void mknod_char(const std::string& path, mode_t mode, unsigned major, unsigned minor) {
    checked(::mknod(path.c_str(), S_IFCHR | mode, makedev(major, minor)),
            [&] { return fmt::format("mknod({}, S_IFCHR|{:#o}, makedev({}, {}))", q(path), mode, major, minor); });
}

void mkfifo(const std::string& path, mode_t mode) {
    checked(::mkfifo(path.c_str(), mode), [&] { return fmt::format("mkfifo({}, {:#o})", q(path), mode); });
}

void chmod(const std::string& path, mode_t mode) {
    checked(::chmod(path.c_str(), mode), [&] { return fmt::format("chmod({}, {:#o})", q(path), mode); });
}

void symlink(const std::string& target, const std::string& link_path) {
    checked(::symlink(target.c_str(), link_path.c_str()),
            [&] { return fmt::format("symlink({}, {})", q(target), q(link_path)); });
}

void unshare(int flags) {
    checked(::unshare(flags), [&] { return fmt::format("unshare({})", flags::clone_flags(flags)); });
}

void kill(pid_t pid, int sig) {
    checked(::kill(pid, sig), [&] { return fmt::format("kill({}, {})", pid, flags::signal_name(sig)); });
}

UniqueFd open(const std::string& path, int flags, mode_t mode) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    const int err = errno;
    if (fd == -1) {
        explain::note("open({}) {}", q(path), explain::result(-1, err));
        throw SysError(fmt::format("open({})", q(path)), err);
    }
    return UniqueFd{fd};
}

namespace {

UniqueFd open_for_writing(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        const int err = errno;
        explain::note("open({}, O_WRONLY) {}", q(path), explain::result(-1, err));
        throw SysError(fmt::format("open({}, O_WRONLY)", q(path)), err);
    }
    return UniqueFd{fd};
}

/// One write(2) of all of `value`, narrated and checked (a short write is EIO).
void write_whole(const UniqueFd& fd, const std::string& path, const std::string& value) {
    const ssize_t n = ::write(fd.get(), value.data(), value.size());
    const int err = errno;
    const auto call = [&] { return fmt::format("write({}, {})", q(path), q(value)); };
    if (n >= 0 && static_cast<std::size_t>(n) != value.size()) {
        explain::note("{} = {} (short write)", call(), n);
        throw SysError(call(), EIO);
    }
    errno = err;
    checked(n, call);
}

} // namespace

void write_file(const std::string& path, const std::string& content) {
    write_whole(open_for_writing(path), path, content);
}

void write_each(const std::string& path, const std::vector<std::string>& values) {
    const UniqueFd fd = open_for_writing(path);
    for (const auto& value : values) {
        write_whole(fd, path, value);
    }
}

std::string read_file(const std::string& path) {
    const UniqueFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (!fd) {
        throw SysError(fmt::format("open({}, O_RDONLY)", q(path)), errno);
    }
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n == 0) {
            return out;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw SysError(fmt::format("read({})", q(path)), errno);
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
}

long statfs_type(const std::string& path) {
    struct statfs st {};
    const int rc = ::statfs(path.c_str(), &st);
    const int err = errno;
    if (rc == 0) {
        explain::note("statfs({}) = 0 (f_type={:#x})", q(path), static_cast<unsigned long>(st.f_type));
        return static_cast<long>(st.f_type);
    }
    explain::note("statfs({}) {}", q(path), explain::result(-1, err));
    throw SysError(fmt::format("statfs({})", q(path)), err);
}

namespace {
std::string mount_attr_names(unsigned long long attr_set) {
    std::string names;
    for (const auto& [bit, name] : {std::pair{MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"},
                                    std::pair{MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
                                    std::pair{MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"},
                                    std::pair{MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"}}) {
        if (attr_set & bit) {
            names += (names.empty() ? "" : "|") + std::string(name);
        }
    }
    return names.empty() ? "0" : names;
}
} // namespace

void mount_setattr_recursive(const std::string& path, unsigned long long attr_set) {
    struct mount_attr attr {};
    attr.attr_set = attr_set;
    checked(::mount_setattr(AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof attr),
            [&] { return fmt::format("mount_setattr(AT_FDCWD, {}, AT_RECURSIVE, {{attr_set={}}})", q(path),
                        mount_attr_names(attr_set)); });
}

void mount_setattr_recursive(int fd, unsigned long long attr_set, const std::string& shown_as) {
    struct mount_attr attr {};
    attr.attr_set = attr_set;
    checked(::mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr),
            [&] { return fmt::format("mount_setattr({} <{}>, \"\", AT_EMPTY_PATH|AT_RECURSIVE, {{attr_set={}}})", fd,
                        shown_as, mount_attr_names(attr_set)); });
}

void setresuid(uid_t uid) {
    checked(::setresuid(uid, uid, uid), [&] { return fmt::format("setresuid({}, {}, {})", uid, uid, uid); });
}

void setresgid(gid_t gid) {
    checked(::setresgid(gid, gid, gid), [&] { return fmt::format("setresgid({}, {}, {})", gid, gid, gid); });
}

void clear_groups() { checked(::setgroups(0, nullptr), "setgroups(0, [])"); }

void setgroups(const std::vector<gid_t>& groups) {
    checked(::setgroups(groups.size(), groups.data()),
            [&] { return fmt::format("setgroups({}, [{}])", groups.size(), fmt::join(groups, ", ")); });
}

mode_t umask(mode_t mask) {
    const mode_t previous = ::umask(mask);
    explain::note("umask({:04o}) = {:04o}", mask, previous);
    return previous;
}

void setdomainname(const std::string& name) {
    checked(::setdomainname(name.data(), name.size()), [&] { return fmt::format("setdomainname({})", q(name)); });
}

void setns(int fd, int nstype, const std::string& what) {
    checked(::setns(fd, nstype), [&] { return fmt::format("setns({}<{}>, {})", fd, what, flags::namespace_type(nstype)); });
}

void setns(const std::string& path, int nstype) {
    const UniqueFd fd = open(path, O_RDONLY);
    setns(fd.get(), nstype, path);
}

bool flock(int fd, int operation, const std::string& what) {
    const auto call = [&] { return fmt::format("flock({}<{}>, {})", fd, what, flags::flock_operation(operation)); };
    for (;;) {
        const int rc = ::flock(fd, operation);
        const int err = errno;
        if (rc == -1 && err == EINTR) {
            continue;
        }
        if (rc == -1 && err == EWOULDBLOCK && (operation & LOCK_NB)) {
            explain::note("{} {} (held by another process)", call(), explain::result(-1, err));
            return false;
        }
        errno = err;
        checked(rc, call);
        return true;
    }
}

sigset_t sigprocmask(int how, const sigset_t& set) {
    sigset_t old{};
    checked(::sigprocmask(how, &set, &old),
            [&] { return fmt::format("sigprocmask({}, {})", flags::sigprocmask_how(how), flags::signal_set(set)); });
    return old;
}

UniqueFd signalfd(const sigset_t& mask, int flags) {
    return UniqueFd{static_cast<int>(checked(::signalfd(-1, &mask, flags), [&] {
        const std::string flag_names = flags == 0                                 ? "0"
                                       : flags == SFD_CLOEXEC                     ? "SFD_CLOEXEC"
                                       : flags == (SFD_CLOEXEC | SFD_NONBLOCK) ? "SFD_CLOEXEC|SFD_NONBLOCK"
                                                                                  : fmt::format("{:#x}", flags);
        return fmt::format("signalfd(-1, {}, {})", flags::signal_set(mask), flag_names);
    }))};
}

UniqueFd pidfd_open(pid_t pid) {
    return UniqueFd{static_cast<int>(checked(::syscall(SYS_pidfd_open, pid, 0), [&] { return fmt::format("pidfd_open({}, 0)", pid); }))};
}

UniqueFd try_pidfd_open(pid_t pid) noexcept {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    const int err = fd == -1 ? errno : 0;
    if (explain::enabled()) {
        try {
            explain::note("pidfd_open({}, 0) {}", pid, explain::result(fd, err));
        } catch (...) {
            // narration is best effort here
        }
    }
    return UniqueFd{fd};
}

void pidfd_send_signal(int pidfd, int sig) {
    checked(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0),
            [&] { return fmt::format("pidfd_send_signal({}, {}, NULL, 0)", pidfd, flags::signal_name(sig)); });
}

namespace {

/// The message send_fd and receive_fd exchange: one byte of data, and room
/// for one descriptor (SCM_RIGHTS) beside it.  It points into itself: not copyable.
struct FdMessage {
    char byte = 'F';
    iovec data{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    FdMessage() {
        msg.msg_iov = &data;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
};

} // namespace

void send_fd(int socket, int fd, const std::string& what) {
    FdMessage message;
    cmsghdr* rights = CMSG_FIRSTHDR(&message.msg);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &fd, sizeof(int));
    checked(::sendmsg(socket, &message.msg, MSG_NOSIGNAL),
            [&] { return fmt::format("sendmsg({}, [SCM_RIGHTS: {} {}], MSG_NOSIGNAL)", socket, fd, what); });
}

UniqueFd receive_fd(int socket, const std::string& what) {
    FdMessage message;
    long n = 0;
    do {
        n = ::recvmsg(socket, &message.msg, MSG_CMSG_CLOEXEC);
    } while (n == -1 && errno == EINTR);
    checked(n, [&] { return fmt::format("recvmsg({}, [SCM_RIGHTS: {}], MSG_CMSG_CLOEXEC)", socket, what); });
    const cmsghdr* rights = CMSG_FIRSTHDR(&message.msg);
    if (n <= 0 || rights == nullptr || rights->cmsg_level != SOL_SOCKET || rights->cmsg_type != SCM_RIGHTS) {
        return UniqueFd{};
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(rights), sizeof(int));
    return UniqueFd{fd};
}

void set_parent_death_signal(int sig) {
    checked(::prctl(PR_SET_PDEATHSIG, sig), [&] { return fmt::format("prctl(PR_SET_PDEATHSIG, {})", flags::signal_name(sig)); });
}

void set_no_new_privs() { checked(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS, 1)"); }

void set_not_dumpable() { checked(::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE, 0)"); }

void setrlimit(int resource, std::uint64_t soft, std::uint64_t hard, const std::string& name) {
    struct rlimit64 limit {};
    limit.rlim_cur = soft;
    limit.rlim_max = hard;
    const auto text = [](std::uint64_t v) {
        return v == RLIM64_INFINITY ? std::string("RLIM_INFINITY") : std::to_string(v);
    };
    checked(::prlimit64(0, static_cast<__rlimit_resource>(resource), &limit, nullptr),
            [&] { return fmt::format("prlimit(0, {}, {{{}, {}}})", name, text(soft), text(hard)); });
}

void drop_bounding_capability(int cap, const std::string& name) {
    checked(::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), [&] { return fmt::format("prctl(PR_CAPBSET_DROP, {})", name); });
}

void set_keep_capabilities(bool on) {
    checked(::prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0), [&] { return fmt::format("prctl(PR_SET_KEEPCAPS, {})", on ? 1 : 0); });
}

void clear_ambient_capabilities() {
    checked(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)");
}

void raise_ambient_capability(int cap, const std::string& name) {
    checked(::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0),
            [&] { return fmt::format("prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, {})", name); });
}

void capset(std::uint64_t effective, std::uint64_t permitted, std::uint64_t inheritable, const std::string& shown_as) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    for (int word = 0; word < 2; ++word) {
        data[word].effective = static_cast<std::uint32_t>(effective >> (32 * word));
        data[word].permitted = static_cast<std::uint32_t>(permitted >> (32 * word));
        data[word].inheritable = static_cast<std::uint32_t>(inheritable >> (32 * word));
    }
    checked(::syscall(SYS_capset, &header, data), [&] { return fmt::format("capset({})", shown_as); });
}

void cloexec_from(unsigned first) {
    checked(::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC),
            [&] { return fmt::format("close_range({}, ~0U, CLOSE_RANGE_CLOEXEC)", first); });
}

void close_from(unsigned first) {
    checked(::syscall(SYS_close_range, first, ~0U, 0), [&] { return fmt::format("close_range({}, ~0U, 0)", first); });
}

void unlink(const std::string& path) { checked(::unlink(path.c_str()), [&] { return fmt::format("unlink({})", q(path)); }); }

void rename(const std::string& from, const std::string& to) {
    checked(::rename(from.c_str(), to.c_str()), [&] { return fmt::format("rename({}, {})", q(from), q(to)); });
}

void fsync(int fd, const std::string& what) {
    checked(::fsync(fd), [&] { return fmt::format("fsync({}<{}>)", fd, what); });
}

cpu_set_t sched_getaffinity() {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    checked(::sched_getaffinity(0, sizeof cpus, &cpus), "sched_getaffinity(0)");
    return cpus;
}

void sched_setaffinity(pid_t pid, const cpu_set_t& cpus) {
    checked(::sched_setaffinity(pid, sizeof cpus, &cpus),
            [&] { return fmt::format("sched_setaffinity({}, CPUs {})", pid, cpu_list(cpus)); });
}

std::string cpu_list(const cpu_set_t& cpus) {
    std::string list;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (!CPU_ISSET(cpu, &cpus)) {
            continue;
        }
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &cpus)) {
            ++last;
        }
        list += list.empty() ? "" : ",";
        list += last == cpu ? std::to_string(cpu) : fmt::format("{}-{}", cpu, last);
        cpu = last;
    }
    return list.empty() ? "none" : list;
}

} // namespace nsrun::sys
