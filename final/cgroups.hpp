/// @file cgroups.hpp
/// Control groups: the container's resource limits (memory, CPU, processes).
#pragma once

#include "spec.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

/// The CFS bandwidth period every driver uses (100 ms, the kernel's default).
inline constexpr std::uint64_t cpu_period_us = 100000;
/// --cpus N → the CPU time (µs) the container may use per period.
std::uint64_t cpu_quota_us(double cpus);
/// --cpu-weight (v2: 1-10000, default 100) → v1's cpu.shares (2-262144, default
/// 1024): shares = weight × 1024 / 100, so the two defaults correspond.
std::uint64_t cpu_shares_of_weight(unsigned weight);

/// The directories a container's cgroup will have: recorded in the state
/// before they are made, so that teardown can find them after any crash.
struct CgroupPlan {
    std::vector<std::string> directories; ///< `nsrun/<id>` under each hierarchy used
    std::vector<std::string> parents;     ///< the shared nsrun/ directories
};

/// Called right after the driver mkdir()s a directory.  On a real cgroupfs the
/// kernel fills it with interface files; unit tests play the kernel with it.
using MkdirHook = std::function<void(const std::string& dir)>;

/// How one cgroup hierarchy layout is driven.  A container's cgroup is
/// "nsrun/<id>" under the root of each hierarchy used; `nsrun` is shared by
/// all containers of the runtime.  Every write goes through nsrun::sys, so
/// --explain narrates it.
class CgroupDriver {
public:
    CgroupDriver() = default;
    CgroupDriver(const CgroupDriver&) = delete;
    CgroupDriver& operator=(const CgroupDriver&) = delete;
    virtual ~CgroupDriver() = default;

    /// "cgroup v2" or "cgroup v1".
    [[nodiscard]] virtual std::string name() const = 0;
    /// mkdir the container's cgroup(s) `nsrun/<id>` (and the parent nsrun if
    /// needed).  Throws if the container's directory already exists.
    virtual void create(const std::string& id) = 0;
    /// Write the limits into the container's cgroup(s).
    virtual void set_limits(const Resources& limits) = 0;
    /// Move `pid` into the container's cgroup(s): write it to cgroup.procs.
    virtual void add_process(pid_t pid) = 0;
    /// How many processes of the container the OOM killer has killed.
    [[nodiscard]] virtual std::uint64_t oom_kills() const = 0;
    /// The container's cgroup directories (one per hierarchy used).
    [[nodiscard]] virtual std::vector<std::string> directories() const = 0;
    /// In the child, inside its cgroup namespace: mount this layout's
    /// cgroupfs read-only at `target` (v2: one cgroup2 mount; v1: a tmpfs
    /// holding one mount per hierarchy).  Its root is the container's cgroup.
    /// The views use only what plan() found: the child's copy of the driver
    /// is the one of before clone, and the parent makes the cgroup after.
    virtual void mount_view(const std::string& target) const = 0;
    /// In the child, in the caller's cgroup namespace (config.json lists
    /// none): the container's own cgroup `directories` of the host's tree
    /// (plan()'s, in its order), bound read-only at `target` (v2: the one
    /// directory; v1: a tmpfs holding one bind per hierarchy), as runc does.
    /// Before pivot_root.
    virtual void bind_view(const std::string& target, const std::vector<std::string>& directories) const = 0;
    /// Pure: the directories create(id) will make (for the state record).
    [[nodiscard]] virtual CgroupPlan plan(const std::string& id) const = 0;

    /// config.json's linux.cgroupsPath: the container's cgroup is PATH in
    /// each hierarchy used instead of `nsrun/<id>` — "/a/b" below the
    /// hierarchy's root, "a/b" below nsrun's own cgroup there (runc's rule).
    /// Of its parents only those missing now are made (and later removed
    /// when empty); the cgroup itself must not exist yet.  Before plan().
    void place_at(std::string cgroups_path) { cgroups_path_ = std::move(cgroups_path); }
    /// The OCI container's cgroup is also made in every other hierarchy
    /// mounted (v1: blkio, cpuset, freezer, name=systemd, …, and a hybrid
    /// layout's unified one), and its init joined there, as runc does: tools
    /// that look at any hierarchy see it, and `pause` has a freezer.  No
    /// limit is written there.  v2 has one hierarchy: nothing to add.
    /// Before plan().
    virtual void join_every_hierarchy() {}

protected:
    /// `hierarchy`/… of the container's cgroup at cgroupsPath, and the
    /// parents to make, deepest first; `controller` ("" on v2) finds nsrun's
    /// own cgroup in /proc/self/cgroup for a relative path.
    [[nodiscard]] CgroupPlan placed(const std::string& hierarchy, const std::string& controller) const;
    /// mkdir what placed() planned: the missing parents (each then given to
    /// `prepare_parent`, existing ones too), then the cgroup itself.
    static std::string make_placed_dir(const std::string& hierarchy, const CgroupPlan& plan, const MkdirHook& hook,
                                       const std::function<void(const std::string&)>& prepare_parent = {});

    std::string cgroups_path_; ///< "": `nsrun/<id>`
};

/// cgroup v2: one unified tree at `root` (normally /sys/fs/cgroup).
/// memory.max, memory.swap.max, cpu.max, cpu.weight, pids.max.
std::unique_ptr<CgroupDriver> make_cgroup_v2_driver(std::string root, MkdirHook hook = {});
/// cgroup v1: one tree per controller under `root` (normally /sys/fs/cgroup):
/// root/memory, root/cpu, root/pids.
std::unique_ptr<CgroupDriver> make_cgroup_v1_driver(std::string root, MkdirHook hook = {});

/// The layout this machine uses, from statfs(2) of `root`: a cgroup2 mount is
/// v2; a tmpfs holding per-controller v1 mounts is v1 — or "hybrid" when it
/// also holds a cgroup2 mount at root/unified, which is used only if it has
/// the memory, cpu and pids controllers (they are usually bound to v1).
std::unique_ptr<CgroupDriver> detect_cgroup_driver(const std::string& root = "/sys/fs/cgroup");

/// Called with the plan before anything is made: the runtime records it.
using RecordCgroupPlan = std::function<void(const CgroupPlan&)>;

/// The container's cgroup, set up by the runtime (the parent).  It is
/// removed by remove_cgroups() from the recorded plan, not by a destructor:
/// the same code runs after a normal end, for `rm` and after a crash.
class Cgroup {
public:
    /// `cgroups_path` "" is `nsrun/<id>` (CgroupDriver::place_at);
    /// `every_hierarchy`: CgroupDriver::join_every_hierarchy.
    Cgroup(std::unique_ptr<CgroupDriver> driver, const std::string& id, const Resources& limits,
           const std::string& cgroups_path = "", bool every_hierarchy = false);

    /// What create() will make, planned once, on construction (in the
    /// parent, before clone: the host's tree is in view).
    [[nodiscard]] const CgroupPlan& plan() const { return plan_; }
    /// Record the plan (`record`), then create() — or, if that fails, remove
    /// whatever of it was made and record an empty plan.  Then an error
    /// (125) where the cgroup is required (a limit, a cgroupsPath); else a
    /// note that the container runs without one, and false.
    [[nodiscard]] bool make(const RecordCgroupPlan& record);
    /// The container's cgroup directories made so far (all of them once
    /// create() returned; after a failed create(), what it did make).
    [[nodiscard]] std::vector<std::string> directories() const;
    /// mkdir `nsrun/<id>` and write the limits into it.
    void create();
    /// In the parent, before releasing the child: move it into the cgroup, so
    /// that everything it runs is limited from its first instruction on.
    void add_process(pid_t pid);
    /// After the container ended: its exit status, turned into a clear
    /// message and 137 if the OOM killer killed it.
    [[nodiscard]] int exit_status(int wait_status) const;
    /// Whether the OOM killer killed a process of the container.
    [[nodiscard]] bool oom_killed() const;
    /// In the child, after /sys is mounted: the container's own cgroups,
    /// read-only, at /sys/fs/cgroup (so `lab-probe limits` reads them).
    void mount_view() const;
    /// A bundle's `cgroup`/`cgroup2` mount at `target`: mount_view's
    /// filesystems in a cgroup namespace of its own (`own_namespace`), else
    /// CgroupDriver::bind_view.  `target` is a path the kernel walks into
    /// (a descriptor's /proc/self/fd/N once the tmpfs is on it).
    void mount_view_at(const std::string& target, bool own_namespace) const;

private:
    std::unique_ptr<CgroupDriver> driver_;
    std::string id_;
    Resources limits_;
    std::string cgroups_path_;
    CgroupPlan plan_;
};

/// Before clone, in the parent: the container's cgroup as it will be — the
/// layout found, its directories planned (Cgroup::plan) — or none.  Nothing
/// is made yet: Cgroup::make() does that after clone, while the child makes
/// its mounts (the child's copy of it then knows the views to mount).
/// Inside a container or on WSL2 there may be no cgroup the runtime can use
/// (no cgroup filesystem, a controller missing, a read-only /sys/fs/cgroup).
/// With no limit flag the container then runs without one, and a one-line
/// note says why, as podman does.  A limit flag there is an error (125) that
/// says what is missing.
/// `cgroups_path`: config.json's linux.cgroupsPath ("": `nsrun/<id>`); a
/// cgroup asked for by name is an error when it cannot be made, like a limit,
/// and refused here when it exists already: teardown from the record would
/// remove someone else's cgroup.  `every_hierarchy`:
/// CgroupDriver::join_every_hierarchy (OCI containers).
std::optional<Cgroup> plan_cgroup(const std::string& id, const Resources& limits,
                                  const std::function<std::unique_ptr<CgroupDriver>()>& make_driver =
                                      [] { return detect_cgroup_driver(); },
                                  const std::string& cgroups_path = "", bool every_hierarchy = false);

/// The directory of the cgroup at `cgroups_path` in the hierarchy at
/// `hierarchy` (CgroupDriver::place_at's rule; `controller` "" on v2).
std::string placed_cgroup_dir(const std::string& hierarchy, const std::string& controller,
                              const std::string& cgroups_path);

/// In the child, after the parent has moved it into its cgroup: a new cgroup
/// namespace, whose root is that cgroup (/proc/self/cgroup shows "/").
void enter_cgroup_namespace();

/// `nsrun exec`: move `pid` into the container's cgroup directories.
void join_cgroups(const std::vector<std::string>& directories, pid_t pid);

/// Teardown from the record: kill what is left inside, rmdir the container's
/// directories (retrying while the kernel frees a dying cgroup), then the
/// shared nsrun/ ones if no other container uses them.  Idempotent, never throws.
void remove_cgroups(const std::vector<std::string>& directories, const std::vector<std::string>& parents) noexcept;
