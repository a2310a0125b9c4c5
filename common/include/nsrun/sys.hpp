/// @file sys.hpp
/// @brief Checked, narrated system-call wrappers.
///
/// Each wrapper makes one system call, narrates it in `--explain` mode with
/// its arguments and result (strace style), and throws nsrun::SysError naming
/// the call, its arguments and the errno text when it fails.  Steps use these
/// instead of raw calls so that every kernel-level action is explained.
#pragma once

#include "nsrun/fd.hpp"

#include <csignal>
#include <cstdint>
#include <sched.h>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nsrun::sys {

/// sethostname(2).
void sethostname(const std::string& name);
/// mount(2). `source`, `fstype` and `data` may be null.
void mount(const char* source, const std::string& target, const char* fstype,
           unsigned long flags, const char* data = nullptr);
/// umount2(2).
void umount2(const std::string& target, int flags);
/// pivot_root(2), which glibc does not wrap.
void pivot_root(const std::string& new_root, const std::string& put_old);
/// chdir(2).
void chdir(const std::string& path);
/// fchdir(2); `shown_as` names the directory in the narration.
void fchdir(int fd, const std::string& shown_as);
/// open_tree(2) with OPEN_TREE_CLONE | AT_EMPTY_PATH: a detached copy of the
/// mount at descriptor `dirfd`, held by the returned descriptor: with
/// `recursive` (AT_RECURSIVE, mount --rbind) its submounts too, without
/// (mount --bind) only the mount itself — what was mounted below the source
/// is not in the copy.  `shown_as` names it.
UniqueFd open_tree_clone(int dirfd, const std::string& shown_as, bool recursive = true);
/// move_mount(2) of descriptor to descriptor: attach the detached tree
/// `from` on top of the directory `to`.
void move_mount(int from, int to, const std::string& to_shown_as);
/// mkdir(2); an existing directory is fine when `exist_ok`.
void mkdir(const std::string& path, mode_t mode, bool exist_ok = true);
/// rmdir(2).
void rmdir(const std::string& path);
/// rmdir(2) where failing is an expected answer (a shared parent still in
/// use): narrated like the others, but returns 0 or the errno instead of
/// throwing.
int try_rmdir(const std::string& path) noexcept;
/// mknod(2) of a character device.
void mknod_char(const std::string& path, mode_t mode, unsigned major, unsigned minor);
/// mkfifo(3) (mknod(2) of a named pipe); subject to the umask like mkdir.
void mkfifo(const std::string& path, mode_t mode);
/// chmod(2): set exact permissions (mknod and mkdir are subject to the umask).
void chmod(const std::string& path, mode_t mode);
/// symlink(2): make `link_path` point to `target`.
void symlink(const std::string& target, const std::string& link_path);
/// unshare(2).
void unshare(int flags);
/// kill(2).
void kill(pid_t pid, int sig);
/// open(2), returning an owned descriptor.
UniqueFd open(const std::string& path, int flags, mode_t mode = 0);
/// Write `content` to an existing file (open + write + close), as one write:
/// procfs and cgroupfs files need the whole value in one write(2).
void write_file(const std::string& path, const std::string& content);
/// open(2) `path` once and write(2) each of `values` to it, a call each: for
/// a file that takes one entry per write (cgroup v1's devices.allow), without
/// an open and a close per entry.  Narrated and checked as write_file.
void write_each(const std::string& path, const std::vector<std::string>& values);
/// Read a whole (small) file.
std::string read_file(const std::string& path);
/// statfs(2): the filesystem type (f_type, e.g. CGROUP2_SUPER_MAGIC) of the filesystem holding `path`.
long statfs_type(const std::string& path);
/// mount_setattr(2) with AT_RECURSIVE: set MOUNT_ATTR_* flags on a whole mount tree
/// (e.g. make a recursive bind mount read-only, submounts included).
void mount_setattr_recursive(const std::string& path, unsigned long long attr_set);
/// mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE, {attr_set}): the same on
/// the mount tree a descriptor holds (a detached open_tree copy too).
void mount_setattr_recursive(int fd, unsigned long long attr_set, const std::string& shown_as);
/// setresuid(2) with all three ids equal.
void setresuid(uid_t uid);
/// setresgid(2) with all three ids equal.
void setresgid(gid_t gid);
/// setgroups(2) with an empty list: drop every supplementary group.
void clear_groups();
/// setgroups(2): the supplementary groups are exactly `groups`.
void setgroups(const std::vector<gid_t>& groups);
/// umask(2): the file mode creation mask is `mask`; returns the previous one
/// (umask cannot fail).
mode_t umask(mode_t mask);
/// setdomainname(2): the NIS domain name, the UTS namespace's second identifier.
void setdomainname(const std::string& name);
/// setns(2): move the caller into the namespace `fd` refers to.  `nstype`
/// is 0 (any) or the CLONE_NEW* flag the namespace must have; `what` names
/// the file in the narration and errors ("/proc/4242/ns/net").
void setns(int fd, int nstype, const std::string& what);
/// open(2) `path` (e.g. /proc/PID/ns/net) and setns(2) into it.
void setns(const std::string& path, int nstype);
/// flock(2) on `fd` (the lock file `what`), retrying on EINTR.  With
/// LOCK_NB, returns false when another holder has it (EWOULDBLOCK).
bool flock(int fd, int operation, const std::string& what);
/// sigprocmask(2): change the blocked set (`how`: SIG_BLOCK, SIG_UNBLOCK,
/// SIG_SETMASK); returns the previous mask.
sigset_t sigprocmask(int how, const sigset_t& set);
/// signalfd(2) with a new descriptor: the signals of `mask` (which must be
/// blocked) become readable as signalfd_siginfo records.
UniqueFd signalfd(const sigset_t& mask, int flags);
/// pidfd_open(2): a descriptor that names process `pid` for as long as it is
/// held — a signal sent through it can never reach a later process that
/// reused the pid.
UniqueFd pidfd_open(pid_t pid);
/// pidfd_open(2) where "no such process" is an expected answer (a record's
/// process that has exited): narrated like the others, but returns an empty
/// descriptor instead of throwing.  (A throw costs its unwinding: on a VM
/// ~0.25 ms of faults into the unwind tables, at the end of every `run`.)
UniqueFd try_pidfd_open(pid_t pid) noexcept;
/// pidfd_send_signal(2): send `sig` to the process `pidfd` names.
void pidfd_send_signal(int pidfd, int sig);
/// sendmsg(2) one byte and the descriptor `fd` over the unix socket
/// `socket` (SCM_RIGHTS): the receiver gets its own descriptor of the same
/// open file.  `what` names the descriptor in the narration and errors.
void send_fd(int socket, int fd, const std::string& what);
/// recvmsg(2) a message sent by send_fd: the descriptor that came with it,
/// close-on-exec; an empty UniqueFd at end of file or if none came.
UniqueFd receive_fd(int socket, const std::string& what);
/// prctl(PR_SET_PDEATHSIG, sig): the kernel sends `sig` to the caller when
/// the thread that created it (its parent) ends.
void set_parent_death_signal(int sig);
/// prctl(PR_SET_NO_NEW_PRIVS, 1): from now on execve(2) never grants
/// privileges (setuid/setgid bits and file capabilities are ignored); inherited
/// by every child and irrevocable.
void set_no_new_privs();
/// prctl(PR_SET_DUMPABLE, 0): /proc/PID/{exe,fd,mem,environ…} of this
/// process open only to a holder of CAP_SYS_PTRACE, and no ptrace attach by
/// its own uid; execve of a normal binary sets it back (CVE-2016-9962,
/// CVE-2019-5736: a runtime that enters a container before it execs).
void set_not_dumpable();
/// rlimit changes: prlimit(0, resource, {soft, hard}) on this process;
/// `name` as the narration shows it (RLIMIT_NOFILE).
void setrlimit(int resource, std::uint64_t soft, std::uint64_t hard, const std::string& name);
/// prctl(PR_CAPBSET_DROP, cap): remove `cap` (named `name` in the narration)
/// from the bounding set, so no later execve can ever regain it.
void drop_bounding_capability(int cap, const std::string& name);
/// prctl(PR_SET_KEEPCAPS, on): keep the permitted set across a change of
/// every uid from 0 to non-zero (which otherwise clears it).
void set_keep_capabilities(bool on);
/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL): empty the ambient set.
void clear_ambient_capabilities();
/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap): add `cap` to the ambient
/// set (it must be permitted and inheritable already).
void raise_ambient_capability(int cap, const std::string& name);
/// capset(2), version 3: the calling thread's effective, permitted and
/// inheritable sets as bit masks (bit N = capability N).  `shown_as` lists
/// the sets by name in the narration.
void capset(std::uint64_t effective, std::uint64_t permitted, std::uint64_t inheritable, const std::string& shown_as);
/// close_range(2) with CLOSE_RANGE_CLOEXEC: mark every descriptor from
/// `first` up close-on-exec, so none of them survives execve.
void cloexec_from(unsigned first);
/// close_range(2): close every descriptor from `first` up.
void close_from(unsigned first);
/// unlink(2).
void unlink(const std::string& path);
/// rename(2): atomically replace `to` with `from` (same filesystem).
void rename(const std::string& from, const std::string& to);
/// fsync(2) of `fd`, the file `what`.
void fsync(int fd, const std::string& what);
/// sched_getaffinity(2) of the calling process: the CPUs it may run on.
cpu_set_t sched_getaffinity();
/// sched_setaffinity(2): process `pid` (0: the caller) may run only on
/// `cpus` (narrated as a list, "0,2-3").  The kernel moves it at once if it
/// runs, or waits to run, on a CPU outside them.
void sched_setaffinity(pid_t pid, const cpu_set_t& cpus);
/// The CPUs of `cpus` as a list, "0,2-3" (as taskset -c and cpuset.cpus write them).
std::string cpu_list(const cpu_set_t& cpus);

} // namespace nsrun::sys
