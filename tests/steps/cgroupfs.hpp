/// @file cgroupfs.hpp
/// @brief The host's view of a container's cgroups, for the step tests.
///
/// Works on both layouts: cgroup v2 (one tree, /sys/fs/cgroup or, on a hybrid
/// machine, /sys/fs/cgroup/unified) and cgroup v1 (one tree per controller,
/// /sys/fs/cgroup/CONTROLLER).  A process's cgroups are read from the host's
/// /proc/PID/cgroup ("ID:CONTROLLERS:PATH" per hierarchy, "0::PATH" for v2).
#pragma once

#include "harness.hpp"

#include <fstream>
#include <linux/magic.h>
#include <map>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <vector>

namespace lab {

inline constexpr const char* cgroupfs_root = "/sys/fs/cgroup";

/// Whether /sys/fs/cgroup is a cgroup v2 (unified) mount.
inline bool cgroup_v2_unified() {
    struct statfs st {};
    return ::statfs(cgroupfs_root, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

/// A file's content without its trailing newline, or "" when unreadable.
inline std::string read_trimmed(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

/// A process's cgroups: "CONTROLLERS" (v1, e.g. "memory", "cpu,cpuacct",
/// "name=systemd"; "" for v2) → path inside that hierarchy.
inline std::map<std::string, std::string> cgroups_of(pid_t pid) {
    std::map<std::string, std::string> found;
    std::istringstream lines(read_trimmed("/proc/" + std::to_string(pid) + "/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        found[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
    }
    return found;
}

/// The host directory of hierarchy `controllers` (a key of cgroups_of) + `path`.
inline std::string cgroup_host_dir(const std::string& controllers, const std::string& path) {
    const std::string root = cgroupfs_root;
    if (controllers.empty()) {
        return (cgroup_v2_unified() ? root : root + "/unified") + path;
    }
    std::string name = controllers.substr(0, controllers.find(','));
    if (name.starts_with("name=")) name = name.substr(5);
    return root + "/" + name + path;
}

/// The directories of the cgroups `pid` is in that this test process is not
/// in: the container's own cgroups, as seen from the host.
inline std::vector<std::string> own_cgroup_dirs(pid_t pid) {
    const auto mine = cgroups_of(::getpid());
    std::vector<std::string> dirs;
    for (const auto& [controllers, path] : cgroups_of(pid)) {
        const auto it = mine.find(controllers);
        if (it != mine.end() && it->second == path) continue;
        dirs.push_back(cgroup_host_dir(controllers, path));
    }
    return dirs;
}

/// The host directory of `pid`'s cgroup holding `controller` ("memory", "cpu",
/// "pids"): its v1 hierarchy when there is one, else the v2 tree.
inline std::string cgroup_dir_of(pid_t pid, const std::string& controller) {
    const auto groups = cgroups_of(pid);
    for (const auto& [controllers, path] : groups) {
        std::istringstream names(controllers);
        for (std::string name; std::getline(names, name, ',');) {
            if (name == controller) return cgroup_host_dir(controllers, path);
        }
    }
    const auto v2 = groups.find("");
    return v2 == groups.end() ? std::string{} : cgroup_host_dir("", v2->second);
}

/// Whether a directory exists.
inline bool dir_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

/// Every directory under the cgroup hierarchies named `name` (a container id).
inline std::vector<std::string> cgroup_dirs_named(const std::string& name) {
    std::vector<std::string> found;
    const std::string root = cgroupfs_root;
    std::vector<std::string> hierarchies;
    if (cgroup_v2_unified()) {
        hierarchies.push_back(root);
    } else {
        for (const char* h : {"memory", "cpu", "pids", "unified"}) hierarchies.push_back(root + "/" + h);
    }
    for (const auto& h : hierarchies) {
        for (const char* parent : {"/nsrun/", "/"}) {
            if (dir_exists(h + parent + name)) found.push_back(h + parent + name);
        }
    }
    return found;
}

} // namespace lab
