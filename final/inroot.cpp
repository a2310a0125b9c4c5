// Resolution of mount destinations inside the container's root (inroot.hpp).
// The kernel does the resolving: openat2(2) with RESOLVE_IN_ROOT treats the
// directory descriptor as "/" for the whole walk — ".." at it stays there, an
// absolute symlink starts from it — so no name in the rootfs can lead out.
#include "inroot.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// The components of `path`, without empty ones and ".".
std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    for (const auto& part : std::filesystem::path(path)) {
        const std::string s = part.string();
        if (!s.empty() && s != "/" && s != ".") {
            parts.push_back(s);
        }
    }
    return parts;
}

/// Kernels before 5.6: walk component by component, never following a
/// symlink (O_NOFOLLOW refuses one with ELOOP), ".." clamped at the root.
int walk_without_symlinks(int root, const std::string& path) {
    std::vector<nsrun::UniqueFd> stack;
    stack.emplace_back(::fcntl(root, F_DUPFD_CLOEXEC, 0));
    for (const auto& part : components(path)) {
        if (part == "..") {
            if (stack.size() > 1) {
                stack.pop_back();
            }
            continue;
        }
        const int fd = ::openat(stack.back().get(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd == -1) {
            return -1;
        }
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
            ::close(fd);
            errno = ELOOP;
            return -1;
        }
        stack.emplace_back(fd);
    }
    return stack.back().release();
}

/// openat2(root, path, O_PATH, RESOLVE_IN_ROOT | `resolve`), or the
/// component walk without symlinks on a kernel older than 5.6.
nsrun::UniqueFd open_resolved(int root, const std::string& path, unsigned long long resolve, const char* how_text) {
    struct open_how how {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | resolve;
    int fd = static_cast<int>(::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how));
    int err = errno;
    if (fd == -1 && err == ENOSYS) {
        nsrun::explain::note("openat2 = -1 ENOSYS (kernel < 5.6): walking {} without following any symlink",
                             nsrun::explain::quote(path));
        fd = walk_without_symlinks(root, path);
        err = errno;
        how_text = "O_NOFOLLOW per component";
    }
    // Named only when narrating or failing (formatting is work, here in the container's process).
    const auto call = [&] {
        return fmt::format("openat2({}, {}, {{O_PATH, {}}})", root, nsrun::explain::quote(path), how_text);
    };
    if (nsrun::explain::enabled()) {
        nsrun::explain::note("{} {}", call(), nsrun::explain::result(fd, err));
    }
    if (fd == -1) {
        throw nsrun::SysError(call(), err);
    }
    return nsrun::UniqueFd{fd};
}

/// A path make_in_root walked, each symlink on it already replaced by its
/// target: it must still hold no symlink when it is opened.  If one is there
/// now, a name was swapped for a symlink after it was looked at (another
/// container sharing a volume racing the start: CVE-2021-30465) and the
/// descriptor would not be the directory that was checked — refused (ELOOP)
/// rather than followed, as runc refuses a procfd that is not the path it
/// resolved.
nsrun::UniqueFd open_walked(int root, const std::string& path) {
    try {
        return open_resolved(root, path, RESOLVE_NO_SYMLINKS, "RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS");
    } catch (const nsrun::SysError& e) {
        if (e.error_number() != ELOOP) {
            throw;
        }
        throw nsrun::SysError(fmt::format("{}: a name on the way became a symlink after it was resolved (is another "
                                          "container changing a volume this path goes through?)",
                                          e.call()),
                              ELOOP);
    }
}

} // namespace

nsrun::UniqueFd open_in_root(int root, const std::string& path) {
    return open_resolved(root, path, RESOLVE_NO_MAGICLINKS, "RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS");
}

nsrun::UniqueFd make_in_root(int root, const std::string& path, bool directory) {
    // Walk the path one name at a time from the root, keeping `here` a real
    // path inside the root (no symlink in it): a missing name is made in its
    // resolved parent; a symlink is replaced by its target's names, read as
    // text and walked the same way (an absolute one from the root) — as the
    // kernel would follow it, but never out of the root.
    auto todo = components(path);
    std::reverse(todo.begin(), todo.end()); // a stack: the next name last
    std::string here = "/";
    int links = 0;
    while (!todo.empty()) {
        const std::string name = todo.back();
        todo.pop_back();
        if (name == "..") {
            here = std::filesystem::path(here).parent_path().string();
            continue;
        }
        const nsrun::UniqueFd parent = open_walked(root, here);
        const std::string next = (here == "/" ? "" : here) + "/" + name;
        struct stat st {};
        if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
            char target[4096] = {};
            const ssize_t n = ::readlinkat(parent.get(), name.c_str(), target, sizeof target - 1);
            if (n <= 0 || ++links > 40) {
                throw nsrun::SysError(fmt::format("readlink({} inside the root)", nsrun::explain::quote(next)),
                                      n <= 0 ? errno : ELOOP);
            }
            nsrun::explain::note("{} is a symlink to {}: followed inside the root", nsrun::explain::quote(next),
                                 nsrun::explain::quote(std::string(target, static_cast<std::size_t>(n))));
            auto expansion = components(std::string(target, static_cast<std::size_t>(n)));
            todo.insert(todo.end(), expansion.rbegin(), expansion.rend());
            if (target[0] == '/') {
                here = "/";
            }
            continue;
        }
        const bool last = todo.empty();
        // Made in the resolved parent: mkdirat and O_CREAT|O_NOFOLLOW never
        // follow a symlink that a racer put there meanwhile (EEXIST / ELOOP).
        int rc = 0;
        const bool make_dir = !last || directory;
        if (make_dir) {
            rc = ::mkdirat(parent.get(), name.c_str(), 0755);
        } else {
            rc = ::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (rc >= 0) {
                ::close(rc);
                rc = 0;
            }
        }
        if (rc == -1 && errno != EEXIST) {
            const int err = errno;
            const std::string call =
                fmt::format("{}({} inside the root)", make_dir ? "mkdir" : "open", nsrun::explain::quote(next));
            nsrun::explain::note("{} {}", call, nsrun::explain::result(-1, err));
            throw nsrun::SysError(call, err);
        }
        if (rc == 0) {
            nsrun::explain::note("{}({} inside the root) = 0", make_dir ? "mkdir" : "creat", nsrun::explain::quote(next));
        }
        here = next;
    }
    return open_walked(root, here);
}

std::string fd_path(const nsrun::UniqueFd& fd) { return fmt::format("/proc/self/fd/{}", fd.get()); }

bool is_kernel_filesystem_path(const std::string& path) {
    const std::string normal = std::filesystem::path(path).lexically_normal().string();
    for (const std::string top : {"/proc", "/sys"}) {
        if (normal == top || normal == top + "/" || normal.starts_with(top + "/")) {
            return true;
        }
    }
    return false;
}

bool is_on_kernel_filesystem(const nsrun::UniqueFd& fd) {
    struct statfs st {};
    if (::fstatfs(fd.get(), &st) == -1) {
        return false;
    }
    const auto type = static_cast<unsigned long>(st.f_type);
    return type == PROC_SUPER_MAGIC || type == SYSFS_MAGIC || type == CGROUP_SUPER_MAGIC || type == CGROUP2_SUPER_MAGIC;
}
