// Masked and read-only paths, as runc does them.  A container has its own
// /proc, but many of its files are not per-namespace: /proc/kcore is the
// host's physical memory, /proc/sys/kernel/core_pattern is one setting for
// the whole machine — and the kernel runs the program it names, as root on
// the host, whenever any process dumps core.  Root in a container with a
// writable /proc/sys owns the host (the classic core_pattern escape).
#include "masks.hpp"

#include <nsrun/sys.hpp>

#include <cerrno>
#include <sys/mount.h>
#include <sys/stat.h>

const std::vector<std::string>& default_masked_paths() {
    static const std::vector<std::string> paths = {
        "/proc/acpi",        "/proc/asound",    "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",        "/sys/firmware",   "/sys/devices/virtual/powercap",
    };
    return paths;
}

const std::vector<std::string>& default_readonly_paths() {
    static const std::vector<std::string> paths = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys",
    };
    return paths;
}

void mask_paths(const std::vector<std::string>& paths) {
    for (const auto& path : paths) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == -1) {
            continue; // not on this kernel: nothing to hide
        }
        if (S_ISDIR(st.st_mode)) {
            nsrun::sys::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555");
        } else {
            nsrun::sys::mount("/dev/null", path, nullptr, MS_BIND);
        }
    }
}

void make_paths_readonly(const std::vector<std::string>& paths) {
    for (const auto& path : paths) {
        struct stat st {};
        if (path == "/sys" || ::lstat(path.c_str(), &st) == -1) {
            continue;
        }
        nsrun::sys::mount(path.c_str(), path, nullptr, MS_BIND | MS_REC);
        nsrun::sys::mount_setattr_recursive(path, MOUNT_ATTR_RDONLY);
    }
}
