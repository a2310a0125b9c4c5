// The default seccomp profile: docker's, rule for rule in meaning.  An
// allowlist — anything not named here fails with EPERM — of the ~350
// system calls ordinary programs use, plus the calls docker allows only to
// a container that holds the capability they need anyway, so that
// --cap-add SYS_ADMIN (say) makes mount(2) work as it would under docker.
//
// What it refuses, and why (the kernel surface of past escapes):
// keyctl/add_key/request_key (kernel keyrings are not namespaced),
// unshare/setns/clone with CLONE_NEW* (new user namespaces unlock kernel
// code paths root-in-container should not reach: CVE-2022-0185 and many
// since), mount/umount/pivot_root, bpf, perf_event_open, userfaultfd (the
// race amplifier of many exploits), kexec_*, init/finit/delete_module,
// open_by_handle_at, name_to_handle_at, ptrace & process_vm_* (without
// CAP_SYS_PTRACE), personality other than the few harmless ones,
// io_uring_* (refused by docker since 2023), reboot, swapon, acct,
// settimeofday, clock_settime, iopl, ioperm, vm86, lookup_dcookie, quotactl,
// syslog, socket(AF_VSOCK).
#include "seccomp.hpp"

#include <algorithm>

namespace {

/// Allowed for every container.
constexpr const char* allowed[] = {
    // files and directories
    "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "dup",
    "dup2", "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod",
    "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr",
    "flistxattr", "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64",
    "fsync", "ftruncate", "ftruncate64", "getcwd", "getdents", "getdents64", "getxattr", "inotify_add_watch",
    "inotify_init", "inotify_init1", "inotify_rm_watch", "lchown", "lchown32", "lgetxattr", "link", "linkat",
    "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "mkdir",
    "mkdirat", "mknod", "mknodat", "newfstatat", "open", "openat", "openat2", "pread64", "preadv", "preadv2",
    "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "removexattr",
    "rename", "renameat", "renameat2", "rmdir", "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64",
    "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate",
    "truncate64", "umask", "unlink", "unlinkat", "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice",
    "write", "writev", "fanotify_mark", "memfd_create",
    // memory
    "brk", "madvise", "membarrier", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "remap_file_pages", "memfd_secret", "process_mrelease", "map_shadow_stack", "cachestat",
    // processes, threads, scheduling
    "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex",
    "futex_time64", "futex_waitv", "get_robust_list", "get_thread_area", "getcpu", "getegid", "getegid32",
    "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpgid", "getpgrp",
    "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
    "getrlimit", "getrusage", "getsid", "gettid", "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill",
    "modify_ldt", "nanosleep", "pause", "pidfd_open", "pidfd_send_signal", "prctl", "prlimit64", "rseq",
    "restart_syscall", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "set_robust_list", "set_thread_area",
    "set_tid_address", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32",
    "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "setsid", "setuid", "setuid32",
    "sigaction", "sigaltstack", "signal", "signalfd", "signalfd4", "sigpending", "sigprocmask", "sigreturn",
    "sigsuspend", "tgkill", "tkill", "ugetrlimit", "uname", "vfork", "wait4", "waitid", "waitpid",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "seccomp",
    // time
    "adjtimex", "alarm", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "gettimeofday", "time",
    "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
    "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "times",
    // waiting for events
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "_newselect", "poll", "ppoll", "ppoll_time64", "pselect6",
    "pselect6_time64", "select", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "io_setup", "io_submit", "ioctl",
    // sockets (socket itself: see the conditional rules)
    "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv",
    "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt",
    "shutdown", "socketcall", "socketpair",
    // IPC (the container's own IPC namespace)
    "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "pipe", "pipe2",
    "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
    // system information
    "sysinfo",
};

/// Allowed only to a container holding the capability.
struct Gated {
    const char* capability;
    std::vector<const char*> names;
};
const Gated gated[] = {
    {"CAP_SYS_ADMIN",
     {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
      "mount", "mount_setattr", "move_mount", "name_to_handle_at", "open_tree", "perf_event_open", "quotactl",
      "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
    {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
    {"CAP_SYS_BOOT", {"reboot"}},
    {"CAP_SYS_CHROOT", {"chroot"}},
    {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
    {"CAP_SYS_PACCT", {"acct"}},
    {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"}},
    {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
    {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
    {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
    {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node", "move_pages"}},
    {"CAP_SYSLOG", {"syslog"}},
    {"CAP_BPF", {"bpf"}},
    {"CAP_PERFMON", {"perf_event_open"}},
};

/// clone(2) flags that make a namespace (CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET):
/// without CAP_SYS_ADMIN, clone is allowed only when none is set.
constexpr std::uint64_t namespace_flags = 0x7E020000;
constexpr std::uint64_t af_vsock = 40;
constexpr unsigned enosys = 38;

bool holds(const std::vector<std::string>& caps, const char* cap) {
    return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

} // namespace

Seccomp default_seccomp_profile(const std::vector<std::string>& caps) {
    Seccomp profile;
    profile.default_for = caps; // what a record stores of it (spec.cpp)
    profile.default_action = "SCMP_ACT_ERRNO";
    profile.default_errno_ret = 1; // EPERM
    profile.architectures = native_architectures();
    SeccompSyscall allow{{}, "SCMP_ACT_ALLOW", std::nullopt, {}};
    for (const char* name : allowed) {
        allow.names.emplace_back(name);
    }
    const bool admin = holds(caps, "CAP_SYS_ADMIN");
    for (const auto& group : gated) {
        if (holds(caps, group.capability)) {
            for (const char* name : group.names) {
                if (std::find(allow.names.begin(), allow.names.end(), name) == allow.names.end()) {
                    allow.names.emplace_back(name);
                }
            }
        }
    }
    profile.syscalls.push_back(allow);
    // personality(2): only the harmless personas (PER_LINUX, PER_LINUX32,
    // UNAME26 variants, and the query 0xffffffff).
    for (std::uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL}) {
        profile.syscalls.push_back({{"personality"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, persona, 0, "SCMP_CMP_EQ"}}});
    }
    profile.syscalls.push_back({{"socket"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, af_vsock, 0, "SCMP_CMP_NE"}}});
    if (!admin) {
        profile.syscalls.push_back(
            {{"clone"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, namespace_flags, 0, "SCMP_CMP_MASKED_EQ"}}});
        // clone3 passes its flags in memory a filter cannot read: ENOSYS
        // makes libc fall back to clone, which the rule above checks.
        profile.syscalls.push_back({{"clone3"}, "SCMP_ACT_ERRNO", enosys, {}});
    }
    return profile;
}
