// Control groups (man 7 cgroups).  A namespace changes what a process can
// *see*; a cgroup limits what it can *use*.  A cgroup is a directory in the
// cgroup filesystem: mkdir makes one, writing a pid to its cgroup.procs moves
// that process (and its future children) into it, writing its interface
// files sets the limits, rmdir removes it once it holds no process.
//
// Two layouts exist, and the runtime detects which one this machine has with
// statfs(2) of /sys/fs/cgroup, as crun and nsjail do:
//  - cgroup v2 (unified): /sys/fs/cgroup is itself a cgroup2 mount, one tree
//    for every controller.  A controller must be enabled in the parent's
//    cgroup.subtree_control before a child can use it, and a cgroup that
//    enables controllers for its children may hold no process itself (the
//    "no internal processes" rule) — so the container goes into the leaf
//    nsrun/<id>, and nsrun holds no process.
//  - cgroup v1 (and "hybrid"): /sys/fs/cgroup is a tmpfs holding one cgroup
//    mount per controller (memory/, cpu/, pids/, …), each its own tree; the
//    container gets a directory in each, and its pid is written to each.
//
// The parent does all of this (the child cannot: the cgroupfs is the host's),
// and it does it before releasing the child, so the container is limited
// from its first instruction.  The child then unshares a cgroup namespace
// (man 7 cgroup_namespaces): its cgroup becomes its root, "/".
#include "cgroups.hpp"

#include "devices.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/process.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <linux/magic.h>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// The name of the runtime's own subtree under each hierarchy's root.
constexpr const char* parent_name = "nsrun";
/// The controllers the limits need, in the order v2 enables them.
constexpr const char* needed_controllers[] = {"memory", "cpu", "pids"};
/// docker's minimum: below a few MiB not even a shell starts.
constexpr unsigned long long min_memory = 6ULL << 20;
/// The kernel's cap on the number of pids (PID_MAX_LIMIT on 64-bit).
constexpr unsigned long long max_pids = 4194304;

/// 67108864 → "64 MiB", for messages.
std::string human_size(unsigned long long bytes) {
    constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    std::size_t unit = 0;
    while (unit + 1 < std::size(units) && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        ++unit;
    }
    return fmt::format("{} {}", bytes, units[unit]);
}

// --- the cgroup filesystem --------------------------------------------------

using nsrun::fs::exists;
using nsrun::fs::is_directory;
using nsrun::fs::keyed_value;

void write(const std::string& dir, const char* file, const std::string& value) {
    nsrun::sys::write_file(dir + "/" + file, value);
}

/// The words of `text` between any of `separators`, empty ones skipped.
/// (Not an istringstream: the container's process splits with it too, and
/// its first stream would construct a locale and fault in the iostreams'
/// code, ~0.1 ms on a VM, for a few words.)
std::vector<std::string_view> words_of(std::string_view text, std::string_view separators = " \t\n") {
    std::vector<std::string_view> words;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find_first_of(separators), text.size());
        if (end > 0) {
            words.push_back(text.substr(0, end));
        }
        text.remove_prefix(std::min(end + 1, text.size()));
    }
    return words;
}

/// Whether a space-separated list (cgroup.controllers) holds `word`.
bool lists(const std::string& list, const std::string& word) {
    const auto words = words_of(list);
    return std::find(words.begin(), words.end(), word) != words.end();
}

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
        if (entry->d_type != DT_DIR && entry->d_type != DT_UNKNOWN) {
            continue; // an interface file (cgroup.procs, memory.max, …): no lstat for each at every start
        }
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

/// mkdir `hierarchy`/nsrun (shared: another container may have made it) and
/// then `hierarchy/nsrun/<id>` (ours alone: it must not exist).  A concurrent
/// runtime may remove the empty nsrun between our two mkdirs; then we just
/// try again.  `prepare_parent` runs on nsrun before our directory is made.
std::string make_container_dir(const std::string& hierarchy, const std::string& id, const MkdirHook& hook,
                               const std::function<void(const std::string&)>& prepare_parent = {}) {
    const std::string parent = hierarchy + "/" + parent_name;
    const std::string dir = parent + "/" + id;
    for (int attempt = 1;; ++attempt) {
        try {
            const bool had_parent = is_directory(parent);
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

/// rmdir the container's own cgroup.  The kernel refuses (EBUSY) while a
/// process is still in it, and frees a dying cgroup asynchronously after its
/// last process is reaped, so retry for a while before giving up.
void remove_container_dir(const std::string& dir) noexcept {
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
        std::this_thread::sleep_for(1ms); // a killed process leaves its cgroup within a millisecond or so
    }
}

/// rmdir the shared nsrun/ if no other container still uses it.
/// (Without an exception: with other containers running, failing is the
/// common answer.)
void remove_parent_dir(const std::string& parent) noexcept {
    const int err = nsrun::sys::try_rmdir(parent);
    // EROFS: a read-only cgroupfs (docker gives a container one): nothing was made there.
    if (err != 0 && err != EBUSY && err != ENOTEMPTY && err != ENOENT && err != EROFS) {
        try {
            nsrun::cli::print_warning(
                fmt::format("could not remove {}: rmdir: {}", parent, nsrun::errno_text(err)));
        } catch (const std::exception&) {
        }
    }
}

/// nsrun's own cgroup in the hierarchy of `controller` ("" for v2's
/// unified one), from /proc/self/cgroup ("4:cpu,cpuacct:/user.slice").
std::string own_cgroup(const std::string& controller) {
    std::istringstream lines(nsrun::sys::read_file("/proc/self/cgroup"));
    for (std::string line; std::getline(lines, line);) {
        const auto first = line.find(':');
        const auto second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            continue;
        }
        const std::string controllers = line.substr(first + 1, second - first - 1);
        std::string list = controllers;
        std::replace(list.begin(), list.end(), ',', ' ');
        if (controller.empty() ? controllers.empty() : lists(list, controller)) {
            return line.substr(second + 1);
        }
    }
    throw nsrun::Error{fmt::format("/proc/self/cgroup names no {} cgroup of nsrun's own",
                                   controller.empty() ? "unified (v2)" : controller),
                       "give linux.cgroupsPath as an absolute path (/a/b), below the hierarchy's root"};
}

/// "/a/b/c" → "/a/b".
std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }

/// The flags of every cgroupfs view inside: the container reads its limits
/// there but cannot raise them.
constexpr unsigned long view_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

// --- cgroup v2 --------------------------------------------------------------

class CgroupV2 final : public CgroupDriver {
public:
    CgroupV2(std::string root, MkdirHook hook) : root_(std::move(root)), hook_(std::move(hook)) {}

    [[nodiscard]] std::string name() const override { return "cgroup v2"; }

    void create(const std::string& id) override {
        // The controllers must be available at the root, and enabled there for
        // its children: normally the init system has done so already.
        const std::string available = nsrun::sys::read_file(root_ + "/cgroup.controllers");
        std::string to_enable;
        for (const char* controller : needed_controllers) {
            if (!lists(available, controller)) {
                throw nsrun::Error{
                    fmt::format("cgroup v2 at {} has no {} controller (cgroup.controllers: {})", root_,
                                controller, available.empty() ? "none" : available.substr(0, available.find('\n'))),
                    "the controller may be bound to a cgroup v1 hierarchy, disabled on the kernel command line, or "
                    "not delegated to this container (run without limit flags to run without a cgroup)"};
            }
        }
        const std::string enabled = nsrun::sys::read_file(root_ + "/cgroup.subtree_control");
        for (const char* controller : needed_controllers) {
            if (!lists(enabled, controller)) {
                to_enable += fmt::format("{}+{}", to_enable.empty() ? "" : " ", controller);
            }
        }
        if (!to_enable.empty()) {
            write(root_, "cgroup.subtree_control", to_enable);
        }
        if (!cgroups_path_.empty()) {
            // Every cgroup on the way down must pass the controllers on.
            dir_ = make_placed_dir(root_, placed(root_, ""), hook_, [](const std::string& parent) {
                if (const std::string on = nsrun::sys::read_file(parent + "/cgroup.subtree_control");
                    !lists(on, "memory") || !lists(on, "cpu") || !lists(on, "pids")) {
                    write(parent, "cgroup.subtree_control", "+memory +cpu +pids");
                }
            });
            return;
        }
        parent_ = root_ + "/" + parent_name;
        // nsrun holds no process, so it may enable controllers for the containers below it.
        dir_ = make_container_dir(root_, id, hook_, [](const std::string& parent) {
            write(parent, "cgroup.subtree_control", "+memory +cpu +pids");
        });
    }

    void set_limits(const Resources& limits) override {
        if (limits.memory) {
            write(dir_, "memory.max", std::to_string(*limits.memory));
            // Without this the kernel would swap the container out instead of
            // holding it to the limit (when the machine has swap).  OCI's
            // memory.swap is memory + swap; v2's file is the swap alone.
            if (exists(dir_ + "/memory.swap.max")) {
                const unsigned long long swap = limits.memory_swap && *limits.memory_swap > *limits.memory
                                                    ? *limits.memory_swap - *limits.memory
                                                    : 0;
                write(dir_, "memory.swap.max", std::to_string(swap));
            }
        }
        if (limits.cpus) {
            write(dir_, "cpu.max", fmt::format("{} {}", cpu_quota_us(*limits.cpus), cpu_period_us));
        }
        if (limits.cpu_weight) {
            write(dir_, "cpu.weight", std::to_string(*limits.cpu_weight));
        }
        if (limits.pids_limit) {
            write(dir_, "pids.max", std::to_string(*limits.pids_limit));
        }
        if (!limits.devices.empty()) {
            attach_device_program(dir_, limits.devices); // v2 has no devices.* files
        }
    }

    void add_process(pid_t pid) override { write(dir_, "cgroup.procs", std::to_string(pid)); }

    [[nodiscard]] std::uint64_t oom_kills() const override {
        return keyed_value(dir_ + "/memory.events", "oom_kill");
    }

    [[nodiscard]] std::vector<std::string> directories() const override {
        return dir_.empty() ? std::vector<std::string>{} : std::vector<std::string>{dir_};
    }

    void mount_view(const std::string& target) const override {
        nsrun::sys::mount("cgroup2", target, "cgroup2", view_flags);
    }

    void bind_view(const std::string& target, const std::vector<std::string>& directories) const override {
        nsrun::sys::mount(directories.front().c_str(), target, nullptr, MS_BIND);
        nsrun::sys::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | view_flags);
    }

    [[nodiscard]] CgroupPlan plan(const std::string& id) const override {
        if (!cgroups_path_.empty()) {
            return placed(root_, "");
        }
        return {{root_ + "/" + parent_name + "/" + id}, {root_ + "/" + parent_name}};
    }

private:
    std::string root_;
    MkdirHook hook_;
    std::string parent_; ///< root/nsrun
    std::string dir_;    ///< `root/nsrun/<id>`
};

// --- cgroup v1 --------------------------------------------------------------

/// One hierarchy the container gets a cgroup in.
struct Hierarchy {
    std::string path;       ///< where it is mounted: root/memory, root/systemd, …
    std::string controller; ///< its key in /proc/self/cgroup: "memory", "name=systemd"; "" for cgroup2
    std::string mount_name; ///< its directory's own name: "memory", "cpu,cpuacct", "unified"
    std::string fstype;     ///< "cgroup", or "cgroup2" (hybrid's unified hierarchy)
    std::string data;       ///< what mounting it again takes: "cpu,cpuacct", "name=systemd", ""
    bool limited = false;   ///< memory, cpu, pids, devices: the limits are written there
};

/// "/a/b/c" → "c".
std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

/// realpath(3), or `path` itself when it cannot be resolved.
std::string real_path(const std::string& path) {
    std::string resolved = path;
    if (char* real = ::realpath(path.c_str(), nullptr)) {
        resolved = real;
        std::free(real);
    }
    return resolved;
}

/// The cpuset hierarchy's trap: a new cgroup starts with empty cpuset.cpus
/// and cpuset.mems (unless its parent sets cgroup.clone_children), and the
/// kernel refuses a task in it (ENOSPC).  A cgroup nsrun made gets its
/// parent's, as runc does.
void inherit_cpuset(const std::string& dir) {
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        const std::string own = dir + "/" + file;
        if (!exists(own)) {
            return; // not a cpuset cgroup
        }
        std::string value = nsrun::sys::read_file(own);
        if (value.find_first_not_of(" \n") != std::string::npos) {
            continue;
        }
        value = nsrun::sys::read_file(parent_of(dir) + "/" + file);
        if (value.find_first_not_of(" \n") == std::string::npos) {
            throw nsrun::Error{fmt::format("cgroup v1: {}/{} is empty: no task can join a cgroup below it",
                                           parent_of(dir), file),
                               fmt::format("give it the CPUs or memory nodes of its parent (cat {}/{})",
                                           parent_of(parent_of(dir)), file)};
        }
        write(dir, file, value.substr(0, value.find_last_not_of(" \n") + 1));
    }
}

/// Whether what `path` shows now is a cgroup filesystem: mountinfo lists a
/// hierarchy even when something is mounted over it (crun users on hybrid
/// machines hide cgroup2's unified mount under a tmpfs), and then a mkdir
/// there makes a plain directory with no cgroup.procs to write.
bool is_cgroup_filesystem(const std::string& path) {
    try {
        const long type = nsrun::sys::statfs_type(path);
        return type == CGROUP_SUPER_MAGIC || type == CGROUP2_SUPER_MAGIC;
    } catch (const nsrun::SysError&) {
        return false;
    }
}

/// The cgroup hierarchies mounted right below `root`, from /proc/self/mountinfo
/// (mount point, filesystem type and super options: "rw,cpu,cpuacct",
/// "rw,xattr,name=systemd").  Each mount's own name comes with it, and what
/// mounting it again takes: its controllers and name=, not rw or xattr.
std::vector<Hierarchy> mounted_hierarchies(const std::string& root) {
    std::vector<Hierarchy> found;
    std::istringstream lines(nsrun::sys::read_file("/proc/self/mountinfo"));
    for (std::string line; std::getline(lines, line);) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER-OPTIONS
        std::istringstream fields(line);
        std::string id, parent, device, mount_root, point, word;
        fields >> id >> parent >> device >> mount_root >> point;
        while (fields >> word && word != "-") {
        }
        std::string fstype, source, options;
        fields >> fstype >> source >> options;
        if ((fstype != "cgroup" && fstype != "cgroup2") || parent_of(point) != root ||
            point.find('\\') != std::string::npos) {
            continue; // not a hierarchy, not right below root, or a name mountinfo escapes
        }
        Hierarchy h{point, "", base_name(point), fstype, "", false};
        std::istringstream words(options);
        for (std::string option; fstype == "cgroup" && std::getline(words, option, ',');) {
            constexpr const char* not_controllers[] = {"rw", "ro", "xattr", "noprefix", "clone_children",
                                                       "cpuset_v2_mode", "favordynmods", "nofavordynmods"};
            if (option.empty() || (option.find('=') != std::string::npos && !option.starts_with("name=")) ||
                std::find(std::begin(not_controllers), std::end(not_controllers), option) != std::end(not_controllers)) {
                continue;
            }
            h.data += (h.data.empty() ? "" : ",") + option;
            if (h.controller.empty()) {
                h.controller = option;
            }
        }
        if (fstype == "cgroup" && h.controller.empty()) {
            continue; // a v1 mount with neither a controller nor a name: nothing to join
        }
        if (std::none_of(found.begin(), found.end(), [&](const Hierarchy& f) { return f.path == h.path; }) &&
            is_cgroup_filesystem(point)) {
            found.push_back(std::move(h));
        }
    }
    // hybrid's unified hierarchy last: pause looks for freezer.state before cgroup.freeze
    std::stable_partition(found.begin(), found.end(), [](const Hierarchy& h) { return h.fstype == "cgroup"; });
    return found;
}

class CgroupV1 final : public CgroupDriver {
public:
    CgroupV1(std::string root, MkdirHook hook) : root_(std::move(root)), hook_(std::move(hook)) {}

    [[nodiscard]] std::string name() const override { return "cgroup v1"; }

    void join_every_hierarchy() override {
        every_hierarchy_ = true;
        hierarchies_.reset();
    }

    void create(const std::string& id) override {
        for (const char* controller : needed_controllers) {
            const std::string hierarchy = root_ + "/" + controller;
            if (!is_directory(hierarchy)) {
                throw nsrun::Error{fmt::format("cgroup v1: there is no {} hierarchy at {}", controller, hierarchy),
                                   fmt::format("mount it: mount -t cgroup -o {} cgroup {}", controller, hierarchy)};
            }
        }
        for (const Hierarchy& h : hierarchies()) {
            dirs_.push_back({h, ""});
            std::vector<std::string> made; // the directories nsrun makes here, top down
            if (cgroups_path_.empty()) {
                dirs_.back().dir = make_container_dir(h.path, id, hook_);
                made = {h.path + "/" + parent_name, dirs_.back().dir};
            } else {
                const CgroupPlan plan = placed(h.path, h.controller);
                made.assign(plan.parents.rbegin(), plan.parents.rend());
                made.push_back(make_placed_dir(h.path, plan, hook_));
                dirs_.back().dir = made.back();
            }
            if (lists(h.data, "cpuset")) {
                for (const auto& dir : made) {
                    inherit_cpuset(dir);
                }
            }
        }
    }

    void set_limits(const Resources& limits) override {
        if (limits.memory) {
            const std::string& dir = dir_of("memory");
            write(dir, "memory.limit_in_bytes", std::to_string(*limits.memory));
            // memory+swap: only where swap accounting exists; must be >= the
            // limit above, so it is written second.  Equal means "no swap".
            if (exists(dir + "/memory.memsw.limit_in_bytes")) {
                const unsigned long long memsw =
                    limits.memory_swap && *limits.memory_swap > *limits.memory ? *limits.memory_swap : *limits.memory;
                write(dir, "memory.memsw.limit_in_bytes", std::to_string(memsw));
            }
        }
        if (limits.cpus) {
            const std::string& dir = dir_of("cpu");
            write(dir, "cpu.cfs_period_us", std::to_string(cpu_period_us));
            write(dir, "cpu.cfs_quota_us", std::to_string(cpu_quota_us(*limits.cpus)));
        }
        if (limits.cpu_weight) {
            write(dir_of("cpu"), "cpu.shares", std::to_string(cpu_shares_of_weight(*limits.cpu_weight)));
        }
        if (limits.pids_limit) {
            write(dir_of("pids"), "pids.max", std::to_string(*limits.pids_limit));
        }
        if (!limits.devices.empty() && !is_directory(root_ + "/devices")) {
            nsrun::cli::print_warning(fmt::format("cgroup v1 at {} has no devices hierarchy: the container may open "
                                                  "any device node it can create (drop CAP_MKNOD: --cap-drop MKNOD)",
                                                  root_));
        } else if (!limits.devices.empty()) {
            // In order: docker's first rule ("a *:* rwm" denied) empties the
            // list, each allow after it adds one entry.
            // Each run of rules of one kind through one open file.
            const std::string& dir = dir_of("devices");
            for (auto rule = limits.devices.begin(); rule != limits.devices.end();) {
                const bool allow = rule->allow;
                std::vector<std::string> run;
                for (; rule != limits.devices.end() && rule->allow == allow; ++rule) {
                    run.push_back(v1_device_rule(*rule));
                }
                nsrun::sys::write_each(dir + (allow ? "/devices.allow" : "/devices.deny"), run);
            }
        }
    }

    void add_process(pid_t pid) override {
        for (const auto& d : dirs_) {
            write(d.dir, "cgroup.procs", std::to_string(pid));
        }
    }

    [[nodiscard]] std::uint64_t oom_kills() const override {
        return keyed_value(dir_of("memory") + "/memory.oom_control", "oom_kill");
    }

    void mount_view(const std::string& target) const override {
        nsrun::sys::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
        for (const Hierarchy& h : hierarchies()) {
            nsrun::sys::mkdir(target + "/" + h.mount_name, 0555);
            nsrun::sys::mount(h.fstype.c_str(), target + "/" + h.mount_name, h.fstype.c_str(), view_flags,
                              h.data.empty() ? nullptr : h.data.c_str());
        }
        link_controllers(target);
        nsrun::sys::mount(nullptr, target, nullptr, MS_REMOUNT | view_flags, "mode=755");
    }

    void bind_view(const std::string& target, const std::vector<std::string>& directories) const override {
        nsrun::sys::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
        const auto& all = hierarchies(); // plan(): one directory each, in this order
        for (std::size_t i = 0; i < all.size() && i < directories.size(); ++i) {
            const std::string at = target + "/" + all[i].mount_name;
            nsrun::sys::mkdir(at, 0555);
            nsrun::sys::mount(directories[i].c_str(), at, nullptr, MS_BIND);
            nsrun::sys::mount(nullptr, at, nullptr, MS_REMOUNT | MS_BIND | view_flags);
        }
        link_controllers(target);
        nsrun::sys::mount(nullptr, target, nullptr, MS_REMOUNT | view_flags, "mode=755");
    }

    [[nodiscard]] std::vector<std::string> directories() const override {
        std::vector<std::string> found;
        for (const auto& d : dirs_) {
            if (!d.dir.empty()) {
                found.push_back(d.dir);
            }
        }
        return found;
    }

    [[nodiscard]] CgroupPlan plan(const std::string& id) const override {
        CgroupPlan plan;
        for (const Hierarchy& h : hierarchies()) {
            if (!cgroups_path_.empty()) {
                const CgroupPlan one = placed(h.path, h.controller);
                plan.directories.insert(plan.directories.end(), one.directories.begin(), one.directories.end());
                plan.parents.insert(plan.parents.end(), one.parents.begin(), one.parents.end());
                continue;
            }
            const std::string parent = h.path + "/" + parent_name;
            plan.directories.push_back(parent + "/" + id);
            plan.parents.push_back(parent);
        }
        return plan;
    }

private:
    /// Where the container gets a cgroup: memory, cpu, pids — and devices
    /// where this machine has that hierarchy —, which the limits use; with
    /// join_every_hierarchy() then every other hierarchy mounted below the
    /// root (blkio, cpuset, freezer, name=systemd, …, hybrid's unified one).
    /// (Looked up once per driver: plan, create and the views all ask, and
    /// each lookup resolves every hierarchy's path, symlink by symlink.)
    [[nodiscard]] const std::vector<Hierarchy>& hierarchies() const {
        if (!hierarchies_) {
            hierarchies_ = look_up_hierarchies();
        }
        return *hierarchies_;
    }

    [[nodiscard]] std::vector<Hierarchy> look_up_hierarchies() const {
        std::vector<Hierarchy> list;
        std::vector<std::string> real;
        for (const char* controller : needed_controllers) {
            list.push_back(limited(controller));
        }
        if (is_directory(root_ + "/devices")) {
            list.push_back(limited("devices"));
        }
        if (every_hierarchy_) {
            for (const auto& h : list) {
                real.push_back(real_path(h.path));
            }
            for (Hierarchy& h : mounted_hierarchies(root_)) {
                std::string at = real_path(h.path);
                if (std::find(real.begin(), real.end(), at) == real.end()) {
                    real.push_back(std::move(at));
                    list.push_back(std::move(h));
                }
            }
        }
        return list;
    }

    /// One of the hierarchies the limits use.  It may hold several
    /// controllers, mounted as "cpu,cpuacct" with a "cpu" symlink to it; its
    /// real name is also its mount options.  Resolved in the parent: the
    /// child no longer sees the host's tree.
    [[nodiscard]] Hierarchy limited(const std::string& controller) const {
        const std::string path = root_ + "/" + controller;
        const std::string name = base_name(real_path(path));
        return {path, controller, name, "cgroup", name, true};
    }

    /// In a view at `target`: "cpu" → "cpu,cpuacct" for each controller of
    /// a hierarchy whose directory has another name, as on the host.
    void link_controllers(const std::string& target) const {
        std::vector<std::string> names;
        for (const Hierarchy& h : hierarchies()) {
            names.push_back(h.mount_name);
        }
        for (const Hierarchy& h : hierarchies()) {
            for (const std::string_view c : words_of(h.fstype == "cgroup" ? h.data : "", ",")) {
                if (!c.starts_with("name=") && std::find(names.begin(), names.end(), c) == names.end()) {
                    nsrun::sys::symlink(h.mount_name, target + "/" + std::string(c));
                    names.emplace_back(c);
                }
            }
        }
    }

    struct Dirs {
        Hierarchy hierarchy;
        std::string dir; ///< the container's cgroup there, once made
    };

    [[nodiscard]] const std::string& dir_of(const std::string& controller) const {
        for (const auto& d : dirs_) {
            if (d.hierarchy.limited && d.hierarchy.controller == controller && !d.dir.empty()) {
                return d.dir;
            }
        }
        throw nsrun::Error{fmt::format("cgroup v1: the container has no {} cgroup", controller)};
    }

    std::string root_;
    MkdirHook hook_;
    bool every_hierarchy_ = false;
    mutable std::optional<std::vector<Hierarchy>> hierarchies_;
    std::vector<Dirs> dirs_;
};

} // namespace

std::string placed_cgroup_dir(const std::string& hierarchy, const std::string& controller,
                              const std::string& cgroups_path) {
    std::string under = cgroups_path.front() == '/' ? cgroups_path : own_cgroup(controller) + "/" + cgroups_path;
    while (under.size() > 1 && under.back() == '/') {
        under.pop_back();
    }
    return hierarchy + (under.front() == '/' ? "" : "/") + under;
}

CgroupPlan CgroupDriver::placed(const std::string& hierarchy, const std::string& controller) const {
    CgroupPlan plan;
    plan.directories.push_back(placed_cgroup_dir(hierarchy, controller, cgroups_path_));
    for (std::string p = parent_of(plan.directories.front()); p.size() > hierarchy.size() && !is_directory(p);
         p = parent_of(p)) {
        plan.parents.push_back(p); // ours to make, and to remove once empty
    }
    return plan;
}

std::string CgroupDriver::make_placed_dir(const std::string& hierarchy, const CgroupPlan& plan, const MkdirHook& hook,
                                          const std::function<void(const std::string&)>& prepare_parent) {
    const std::string& dir = plan.directories.front();
    std::vector<std::string> on_the_way;
    for (std::string p = parent_of(dir); p.size() > hierarchy.size(); p = parent_of(p)) {
        on_the_way.insert(on_the_way.begin(), p);
    }
    for (const auto& parent : on_the_way) {
        if (!is_directory(parent)) {
            nsrun::sys::mkdir(parent, 0755, /*exist_ok=*/true);
            if (hook) {
                hook(parent);
            }
        }
        if (prepare_parent) {
            prepare_parent(parent);
        }
    }
    if (is_directory(dir)) {
        throw nsrun::Error{fmt::format("the cgroup {} (linux.cgroupsPath) already exists", dir),
                           "give each container a cgroupsPath of its own; nsrun removes only cgroups it made"};
    }
    nsrun::sys::mkdir(dir, 0755, /*exist_ok=*/false);
    if (hook) {
        hook(dir);
    }
    return dir;
}

std::uint64_t cpu_quota_us(double cpus) {
    return static_cast<std::uint64_t>(std::llround(cpus * static_cast<double>(cpu_period_us)));
}

std::uint64_t cpu_shares_of_weight(unsigned weight) { return (weight * 1024ULL + 50) / 100; }

std::unique_ptr<CgroupDriver> make_cgroup_v2_driver(std::string root, MkdirHook hook) {
    return std::make_unique<CgroupV2>(std::move(root), std::move(hook));
}

std::unique_ptr<CgroupDriver> make_cgroup_v1_driver(std::string root, MkdirHook hook) {
    return std::make_unique<CgroupV1>(std::move(root), std::move(hook));
}

std::unique_ptr<CgroupDriver> detect_cgroup_driver(const std::string& root) {
    const long type = nsrun::sys::statfs_type(root);
    if (type == CGROUP2_SUPER_MAGIC) {
        nsrun::explain::note("{} is a cgroup2 mount: cgroup v2 (unified)", root);
        return make_cgroup_v2_driver(root);
    }
    if (type == TMPFS_MAGIC) {
        const std::string unified = root + "/unified";
        if (is_directory(unified) && nsrun::sys::statfs_type(unified) == CGROUP2_SUPER_MAGIC) {
            const std::string available = nsrun::sys::read_file(unified + "/cgroup.controllers");
            bool all = true;
            for (const char* controller : needed_controllers) {
                all = all && lists(available, controller);
            }
            if (all) {
                nsrun::explain::note("{} holds the memory, cpu and pids controllers: cgroup v2", unified);
                return make_cgroup_v2_driver(unified);
            }
            nsrun::explain::note("hybrid layout: {} lacks memory/cpu/pids, they are v1 hierarchies: cgroup v1",
                                 unified);
        } else {
            nsrun::explain::note("{} is a tmpfs of v1 hierarchies: cgroup v1", root);
        }
        return make_cgroup_v1_driver(root);
    }
    throw nsrun::Error{fmt::format("{} is not a cgroup filesystem (statfs f_type {:#x})", root, type),
                       "mount cgroup2 there, or a tmpfs of cgroup v1 hierarchies"};
}

Cgroup::Cgroup(std::unique_ptr<CgroupDriver> driver, const std::string& id, const Resources& limits,
               const std::string& cgroups_path, bool every_hierarchy)
    : driver_(std::move(driver)), id_(id), limits_(limits), cgroups_path_(cgroups_path) {
    driver_->place_at(cgroups_path);
    if (every_hierarchy) {
        driver_->join_every_hierarchy();
    }
    plan_ = driver_->plan(id_);
}

std::vector<std::string> Cgroup::directories() const { return driver_->directories(); }

void Cgroup::create() {
    nsrun::explain::note("container id {}: its cgroup is {} ({})", id_,
                         cgroups_path_.empty() ? "nsrun/" + id_ : cgroups_path_ + " (linux.cgroupsPath)",
                         driver_->name());
    driver_->create(id_);
    driver_->set_limits(limits_);
}

namespace {

/// Whether a container must have its cgroup or not run: with a limit it
/// would be a silent lie, and so would a cgroup asked for by name that is
/// not there.  Otherwise the container may run without one.
bool cgroup_required(const Resources& limits, const std::string& cgroups_path) {
    return limits.any() || !cgroups_path.empty();
}

void note_running_without_cgroup(const nsrun::Error& e) {
    nsrun::cli::print_note(fmt::format("running without a cgroup (no limit was asked for): {}", e.what()));
}

} // namespace

std::optional<Cgroup> plan_cgroup(const std::string& id, const Resources& limits,
                                  const std::function<std::unique_ptr<CgroupDriver>()>& make_driver,
                                  const std::string& cgroups_path, bool every_hierarchy) {
    try {
        Cgroup cgroup{make_driver(), id, limits, cgroups_path, every_hierarchy};
        for (const auto& dir : cgroup.plan().directories) {
            if (!cgroups_path.empty() && is_directory(dir)) {
                throw nsrun::Error{fmt::format("the cgroup {} (linux.cgroupsPath) already exists", dir),
                                   "give each container a cgroupsPath of its own; nsrun removes only cgroups it made"};
            }
        }
        return cgroup;
    } catch (const nsrun::Error& e) {
        if (cgroup_required(limits, cgroups_path)) {
            throw; // the driver's own error (no cgroup filesystem, no memory controller, …) stands
        }
        note_running_without_cgroup(e);
        return std::nullopt;
    }
}

bool Cgroup::make(const RecordCgroupPlan& record) {
    record(plan_);
    // Nothing half-made stays, and nothing nsrun did not make goes: not a
    // cgroup that appeared at the path since it was planned.
    const auto undo = [&] {
        remove_cgroups(directories(), plan_.parents);
        record({});
    };
    try {
        create();
    } catch (const nsrun::Error& e) {
        undo();
        if (cgroup_required(limits_, cgroups_path_)) {
            throw;
        }
        note_running_without_cgroup(e);
        return false;
    } catch (...) {
        undo();
        throw;
    }
    return true;
}

void Cgroup::add_process(pid_t pid) { driver_->add_process(pid); }

bool Cgroup::oom_killed() const {
    try {
        return driver_->oom_kills() > 0;
    } catch (const std::exception&) {
        return false;
    }
}

int Cgroup::exit_status(int wait_status) const {
    const int status = nsrun::exit_status_of(wait_status);
    std::uint64_t kills = 0;
    try {
        kills = driver_->oom_kills();
    } catch (const std::exception& e) {
        nsrun::cli::print_warning(fmt::format("could not read the container's OOM kill count: {}", e.what()));
        return status;
    }
    if (kills == 0) {
        return status;
    }
    const std::string limit = limits_.memory ? fmt::format(" (limit {})", human_size(*limits_.memory)) : "";
    if (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL) {
        nsrun::cli::print_error(fmt::format("container killed: out of memory{}", limit),
                                "give it more memory with --memory, or make COMMAND use less");
        return nsrun::exit_code::signal_base + SIGKILL;
    }
    nsrun::cli::print_warning(fmt::format("{} process(es) of the container killed: out of memory{}", kills, limit));
    return status;
}

void Cgroup::mount_view() const { driver_->mount_view("/sys/fs/cgroup"); }

void Cgroup::mount_view_at(const std::string& target, bool own_namespace) const {
    if (own_namespace) {
        driver_->mount_view(target);
    } else {
        driver_->bind_view(target, plan_.directories);
    }
}

void enter_cgroup_namespace() { nsrun::sys::unshare(CLONE_NEWCGROUP); }

void join_cgroups(const std::vector<std::string>& directories, pid_t pid) {
    for (const auto& dir : directories) {
        write(dir, "cgroup.procs", std::to_string(pid));
    }
}

void remove_cgroups(const std::vector<std::string>& directories, const std::vector<std::string>& parents) noexcept {
    for (const auto& dir : directories) {
        const int err = nsrun::sys::try_rmdir(dir); // the common case: empty, and gone (or never made)
        if (err == 0 || err == ENOENT || err == ENOTDIR) {
            continue;
        }
        // Whatever is still inside (an exec'd process, a container whose
        // supervisor was killed) must go first: a cgroup with processes cannot be removed.
        try {
            std::istringstream pids(nsrun::sys::read_file(dir + "/cgroup.procs"));
            for (pid_t pid = 0; pids >> pid;) {
                ::kill(pid, SIGKILL);
            }
        } catch (const std::exception&) {
        }
        remove_container_dir(dir);
    }
    for (const auto& parent : parents) {
        remove_parent_dir(parent);
    }
}
