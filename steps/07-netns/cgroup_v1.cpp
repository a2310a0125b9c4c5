// The cgroup v1 driver (the kernel's Documentation/admin-guide/cgroup-v1/).
// /sys/fs/cgroup is a tmpfs holding one cgroup mount per controller
// (memory/, cpu/, pids/, …), each its own tree — also on "hybrid" machines,
// whose extra cgroup2 mount at /sys/fs/cgroup/unified has none of these
// controllers.  The container gets a directory nsrun/<id> in each tree, and
// its pid is written to each.
#include "cgroup_tree.hpp"
#include "cgroups.hpp"

#include <nsrun/error.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <cstdlib>
#include <sys/mount.h>

#include <fmt/format.h>

namespace {

using cgroup_tree::needed_controllers;
using cgroup_tree::write;

class CgroupV1 final : public CgroupDriver {
public:
    CgroupV1(std::string root, MkdirHook hook) : root_(std::move(root)), hook_(std::move(hook)) {}

    [[nodiscard]] std::string name() const override { return "cgroup v1"; }

    void create(const std::string& id) override {
        for (const char* controller : needed_controllers) {
            const std::string hierarchy = root_ + "/" + controller;
            if (!nsrun::fs::is_directory(hierarchy)) {
                throw nsrun::Error{fmt::format("cgroup v1: there is no {} hierarchy at {}", controller, hierarchy),
                                   fmt::format("mount it: mount -t cgroup -o {} cgroup {}", controller, hierarchy)};
            }
        }
        for (const char* controller : needed_controllers) {
            const std::string hierarchy = root_ + "/" + controller;
            dirs_.push_back({controller, mount_name_of(hierarchy, controller), hierarchy + "/" + cgroup_tree::parent_name, ""});
            dirs_.back().dir = cgroup_tree::make_container_dir(hierarchy, id, hook_);
        }
    }

    void set_limits(const CgroupOptions& limits) override {
        if (limits.memory) {
            const std::string& dir = dir_of("memory");
            write(dir, "memory.limit_in_bytes", std::to_string(*limits.memory));
            // memory+swap: only where swap accounting exists; must be >= the
            // limit above, so it is written second.  Equal means "no swap".
            if (nsrun::fs::exists(dir + "/memory.memsw.limit_in_bytes")) {
                write(dir, "memory.memsw.limit_in_bytes", std::to_string(*limits.memory));
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
    }

    void add_process(pid_t pid) override {
        for (const auto& d : dirs_) {
            write(d.dir, "cgroup.procs", std::to_string(pid));
        }
    }

    [[nodiscard]] std::uint64_t oom_kills() const override {
        return nsrun::fs::keyed_value(dir_of("memory") + "/memory.oom_control", "oom_kill");
    }

    void mount_view(const std::string& target) const override {
        nsrun::sys::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
        for (const auto& d : dirs_) {
            nsrun::sys::mkdir(target + "/" + d.mount_name, 0555);
            nsrun::sys::mount("cgroup", target + "/" + d.mount_name, "cgroup", cgroup_tree::view_flags, d.mount_name.c_str());
            if (d.mount_name != d.controller) {
                nsrun::sys::symlink(d.mount_name, target + "/" + d.controller);
            }
        }
        nsrun::sys::mount(nullptr, target, nullptr, MS_REMOUNT | cgroup_tree::view_flags, "mode=755");
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

    void remove() noexcept override {
        for (auto d = dirs_.rbegin(); d != dirs_.rend(); ++d) {
            if (!d->dir.empty()) {
                cgroup_tree::remove_container_dir(d->dir);
            }
            cgroup_tree::remove_parent_dir(d->parent);
        }
        dirs_.clear();
    }

private:
    struct Dirs {
        std::string controller;
        std::string mount_name; ///< the hierarchy's own name: "memory", "cpu,cpuacct", …
        std::string parent; ///< root/CONTROLLER/nsrun
        std::string dir;    ///< root/CONTROLLER/nsrun/<id>, once made
    };

    [[nodiscard]] const std::string& dir_of(const std::string& controller) const {
        for (const auto& d : dirs_) {
            if (d.controller == controller && !d.dir.empty()) {
                return d.dir;
            }
        }
        throw nsrun::Error{fmt::format("cgroup v1: the container has no {} cgroup", controller)};
    }

    /// A hierarchy may hold several controllers, mounted as "cpu,cpuacct"
    /// with a "cpu" symlink to it; its real name is also its mount options.
    /// Resolved in the parent: the child no longer sees the host's tree.
    static std::string mount_name_of(const std::string& hierarchy, const std::string& controller) {
        std::string name = controller;
        if (char* real = ::realpath(hierarchy.c_str(), nullptr)) {
            name = std::string(real).substr(std::string(real).rfind('/') + 1);
            std::free(real);
        }
        return name;
    }

    std::string root_;
    MkdirHook hook_;
    std::vector<Dirs> dirs_;
};

} // namespace

std::unique_ptr<CgroupDriver> make_cgroup_v1_driver(std::string root, MkdirHook hook) {
    return std::make_unique<CgroupV1>(std::move(root), std::move(hook));
}
