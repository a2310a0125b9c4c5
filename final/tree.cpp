// rm -rf through directory descriptors: a symlink is removed, never followed.
#include "tree.hpp"

#include <nsrun/explain.hpp>

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

void remove_children(int dir, dev_t device) noexcept {
    DIR* d = ::fdopendir(dir);
    if (!d) {
        ::close(dir);
        return;
    }
    std::vector<std::pair<std::string, bool>> entries;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        struct stat st {};
        if (::fstatat(::dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == -1) {
            continue;
        }
        if (S_ISDIR(st.st_mode) && st.st_dev != device) {
            continue; // a mount point: never descend into another filesystem
        }
        entries.emplace_back(name, S_ISDIR(st.st_mode));
    }
    for (const auto& [name, is_dir] : entries) {
        if (is_dir) {
            ::fchmodat(::dirfd(d), name.c_str(), 0700, 0); // overlayfs's work/work is mode 0
            const int child = ::openat(::dirfd(d), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (child != -1) {
                remove_children(child, device);
            }
            ::unlinkat(::dirfd(d), name.c_str(), AT_REMOVEDIR);
        } else {
            ::unlinkat(::dirfd(d), name.c_str(), 0);
        }
    }
    ::closedir(d);
}

} // namespace

bool remove_tree(const std::string& path) noexcept {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == -1) {
        return errno == ENOENT;
    }
    if (S_ISDIR(st.st_mode)) {
        ::chmod(path.c_str(), 0700);
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd != -1) {
            remove_children(fd, st.st_dev);
        }
        const int rc = ::rmdir(path.c_str());
        nsrun::explain::note("rm -r {} {}", nsrun::explain::quote(path), nsrun::explain::result(rc, errno));
        return rc == 0;
    }
    return ::unlink(path.c_str()) == 0;
}
