// The cgroup v2 driver (unified hierarchy; the kernel's
// Documentation/admin-guide/cgroup-v2.rst).  /sys/fs/cgroup is itself a
// cgroup2 mount: one tree for every controller.  A controller must be enabled
// in the parent's cgroup.subtree_control before a child can use it, and a
// cgroup that enables controllers for its children may hold no process itself
// (the "no internal processes" rule) — so the container goes into the leaf
// nsrun/<id>, and nsrun holds no process.
#include "cgroup_tree.hpp"
#include "cgroups.hpp"

#include <nsrun/error.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <fmt/format.h>

namespace {

using cgroup_tree::lists;
using cgroup_tree::needed_controllers;
using cgroup_tree::write;

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
        parent_ = root_ + "/" + cgroup_tree::parent_name;
        // nsrun holds no process, so it may enable controllers for the containers below it.
        dir_ = cgroup_tree::make_container_dir(root_, id, hook_, [](const std::string& parent) {
            write(parent, "cgroup.subtree_control", "+memory +cpu +pids");
        });
    }

    void set_limits(const CgroupOptions& limits) override {
        if (limits.memory) {
            write(dir_, "memory.max", std::to_string(*limits.memory));
            // Without this the kernel would swap the container out instead of
            // holding it to the limit (when the machine has swap).
            if (nsrun::fs::exists(dir_ + "/memory.swap.max")) {
                write(dir_, "memory.swap.max", "0");
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
    }

    void add_process(pid_t pid) override { write(dir_, "cgroup.procs", std::to_string(pid)); }

    [[nodiscard]] std::uint64_t oom_kills() const override {
        return nsrun::fs::keyed_value(dir_ + "/memory.events", "oom_kill");
    }

    [[nodiscard]] std::vector<std::string> directories() const override {
        return dir_.empty() ? std::vector<std::string>{} : std::vector<std::string>{dir_};
    }

    void mount_view(const std::string& target) const override {
        nsrun::sys::mount("cgroup2", target, "cgroup2", cgroup_tree::view_flags);
    }

    void remove() noexcept override {
        if (!dir_.empty()) {
            cgroup_tree::remove_container_dir(dir_);
            dir_.clear();
        }
        if (!parent_.empty()) {
            cgroup_tree::remove_parent_dir(parent_);
            parent_.clear();
        }
    }

private:
    std::string root_;
    MkdirHook hook_;
    std::string parent_; ///< root/nsrun
    std::string dir_;    ///< root/nsrun/<id>
};

} // namespace

std::unique_ptr<CgroupDriver> make_cgroup_v2_driver(std::string root, MkdirHook hook) {
    return std::make_unique<CgroupV2>(std::move(root), std::move(hook));
}
