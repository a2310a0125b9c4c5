// The cgroup tree of the runtime, the same for both drivers: nsrun/<id>
// under each hierarchy used (see cgroup_tree.hpp).  A cgroup is a directory:
// mkdir makes one, rmdir removes it once it holds no process.  This file also
// cleans up after runtimes that could not: one killed with SIGKILL leaves its
// container's empty cgroup behind, and the next run removes it.
#include "cgroup_tree.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <dirent.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace {

/// A runtime killed with SIGKILL cannot remove its container's cgroup.  The
/// next run does: a directory under nsrun/ that holds no process and no
/// child cgroup, and is older than any container setup takes, belongs to a
/// dead container (a live container always has its PID 1 in it).
void remove_stale_cgroups(const std::string& parent) noexcept {
    constexpr time_t stale_after_seconds = 60;
    DIR* dir = ::opendir(parent.c_str());
    if (!dir) {
        return;
    }
    std::vector<std::string> stale;
    const time_t now = ::time(nullptr);
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        const std::string path = parent + "/" + name;
        struct stat st {};
        if (name == "." || name == ".." || ::lstat(path.c_str(), &st) == -1 || !S_ISDIR(st.st_mode) ||
            now - st.st_mtime < stale_after_seconds || st.st_nlink > 2) {
            continue; // not a directory, too young, or it has child cgroups
        }
        try {
            if (nsrun::sys::read_file(path + "/cgroup.procs").empty()) {
                stale.push_back(path);
            }
        } catch (const std::exception&) {
            // not a cgroup, or gone meanwhile: leave it alone
        }
    }
    ::closedir(dir);
    for (const auto& path : stale) {
        nsrun::explain::note("{}: no process left, older than {} s: a dead container's, removing it", path,
                             stale_after_seconds);
        try {
            nsrun::sys::rmdir(path);
        } catch (const std::exception&) {
            // another runtime removed it first, or it came back to life: fine
        }
    }
}

} // namespace

namespace cgroup_tree {

void write(const std::string& dir, const char* file, const std::string& value) {
    nsrun::sys::write_file(dir + "/" + file, value);
}

bool lists(const std::string& list, const std::string& word) {
    std::istringstream words(list);
    for (std::string w; words >> w;) {
        if (w == word) {
            return true;
        }
    }
    return false;
}

std::string make_container_dir(const std::string& hierarchy, const std::string& id, const MkdirHook& hook,
                               const std::function<void(const std::string&)>& prepare_parent) {
    // A concurrent runtime may remove the empty nsrun between our two mkdirs;
    // then we just try again.
    const std::string parent = hierarchy + "/" + parent_name;
    const std::string dir = parent + "/" + id;
    for (int attempt = 1;; ++attempt) {
        try {
            const bool had_parent = nsrun::fs::is_directory(parent);
            nsrun::sys::mkdir(parent, 0755, /*exist_ok=*/true);
            if (!had_parent && hook) {
                hook(parent);
            }
            if (prepare_parent) {
                prepare_parent(parent);
            }
            remove_stale_cgroups(parent);
            nsrun::sys::mkdir(dir, 0755, /*exist_ok=*/false);
            if (hook) {
                hook(dir);
            }
            return dir;
        } catch (const nsrun::SysError& e) {
            if (e.error_number() != ENOENT || attempt == 5) {
                throw;
            }
        }
    }
}

void remove_container_dir(const std::string& dir) noexcept {
    // The kernel refuses (EBUSY) while a process is still in it, and frees a
    // dying cgroup asynchronously after its last process is reaped.
    using namespace std::chrono_literals;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        try {
            nsrun::sys::rmdir(dir);
            return;
        } catch (const nsrun::SysError& e) {
            if (e.error_number() == ENOENT) {
                return;
            }
            if (e.error_number() != EBUSY || std::chrono::steady_clock::now() >= deadline) {
                nsrun::cli::print_warning(fmt::format("could not remove the container's cgroup: {}", e.what()));
                return;
            }
        } catch (const std::exception& e) {
            nsrun::cli::print_warning(fmt::format("could not remove the container's cgroup {}: {}", dir, e.what()));
            return;
        }
        std::this_thread::sleep_for(10ms);
    }
}

void remove_parent_dir(const std::string& parent) noexcept {
    try {
        nsrun::sys::rmdir(parent);
    } catch (const nsrun::SysError& e) {
        const int err = e.error_number();
        // EROFS: a read-only cgroupfs (docker gives a container one): nothing was made there.
        if (err != EBUSY && err != ENOTEMPTY && err != ENOENT && err != EROFS) {
            nsrun::cli::print_warning(fmt::format("could not remove {}: {}", parent, e.what()));
        }
    } catch (const std::exception&) {
    }
}

} // namespace cgroup_tree
