// Control groups: the container's resource limits (memory, CPU, processes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

/// The limits asked for on the command line; an empty member means "no limit".
struct CgroupOptions {
    std::optional<unsigned long long> memory; ///< -m/--memory, in bytes
    std::optional<double> cpus;               ///< --cpus: CPUs' worth of time per period
    std::optional<unsigned> cpu_weight;       ///< --cpu-weight: 1-10000 (v2's scale, default 100)
    std::optional<unsigned> pids_limit;       ///< --pids-limit
    /// Whether any limit was asked for.
    [[nodiscard]] bool any() const { return memory || cpus || cpu_weight || pids_limit; }
};

/// The checks of the limit flags (main.cpp declares the options): empty if
/// TEXT is acceptable, else why not.
std::string check_cpus(const std::string& text);       ///< --cpus: 0.01 to this machine's CPUs
std::string check_cpu_weight(const std::string& text); ///< --cpu-weight: 1-10000
std::string check_pids_limit(const std::string& text); ///< --pids-limit: 1-4194304
/// -m/--memory's transform: TEXT ("64m") becomes bytes ("67108864", at least
/// 6 MiB); returns empty, or why TEXT is not a size.
std::string size_to_bytes(std::string& text);

/// The CFS bandwidth period every driver uses (100 ms, the kernel's default).
inline constexpr std::uint64_t cpu_period_us = 100000;
/// --cpus N → the CPU time (µs) the container may use per period.
std::uint64_t cpu_quota_us(double cpus);
/// --cpu-weight (v2: 1-10000, default 100) → v1's cpu.shares (2-262144, default
/// 1024): shares = weight × 1024 / 100, so the two defaults correspond.
std::uint64_t cpu_shares_of_weight(unsigned weight);

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
    virtual void set_limits(const CgroupOptions& limits) = 0;
    /// Move `pid` into the container's cgroup(s): write it to cgroup.procs.
    virtual void add_process(pid_t pid) = 0;
    /// How many processes of the container the OOM killer has killed.
    [[nodiscard]] virtual std::uint64_t oom_kills() const = 0;
    /// The container's cgroup directories (one per hierarchy used).
    [[nodiscard]] virtual std::vector<std::string> directories() const = 0;
    /// In the child, inside its cgroup namespace: mount this layout's
    /// cgroupfs read-only at `target` (v2: one cgroup2 mount; v1: a tmpfs
    /// holding one mount per hierarchy).  Its root is the container's cgroup.
    virtual void mount_view(const std::string& target) const = 0;
    /// rmdir what create() made: the container's directories (retrying while
    /// the kernel still frees a dying cgroup), then nsrun if no other
    /// container uses it.  Never throws; a failure is a warning.
    virtual void remove() noexcept = 0;
};

/// cgroup v2 (cgroup_v2.cpp): one unified tree at `root` (normally
/// /sys/fs/cgroup).  memory.max, memory.swap.max, cpu.max, cpu.weight, pids.max.
std::unique_ptr<CgroupDriver> make_cgroup_v2_driver(std::string root, MkdirHook hook = {});
/// cgroup v1 (cgroup_v1.cpp): one tree per controller under `root`
/// (normally /sys/fs/cgroup): root/memory, root/cpu, root/pids.
std::unique_ptr<CgroupDriver> make_cgroup_v1_driver(std::string root, MkdirHook hook = {});

/// The layout this machine uses, from statfs(2) of `root`: a cgroup2 mount is
/// v2; a tmpfs holding per-controller v1 mounts is v1 — or "hybrid" when it
/// also holds a cgroup2 mount at root/unified, which is used only if it has
/// the memory, cpu and pids controllers (they are usually bound to v1).
std::unique_ptr<CgroupDriver> detect_cgroup_driver(const std::string& root = "/sys/fs/cgroup");

/// The container's cgroup, owned by the runtime (the parent): made by the
/// constructor, removed by the destructor — on every exit path, since the
/// object outlives the wait for the container.
class Cgroup {
public:
    /// Create `nsrun/<id>` with `driver` and write the limits into it.
    Cgroup(std::unique_ptr<CgroupDriver> driver, const std::string& id, const CgroupOptions& limits);
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    ~Cgroup();

    /// In the parent, before releasing the child: move it into the cgroup, so
    /// that everything it runs is limited from its first instruction on.
    void add_process(pid_t pid);
    /// After the container ended: its exit status, turned into a clear
    /// message and 137 if the OOM killer killed it.
    [[nodiscard]] int exit_status(int wait_status) const;
    /// In the child, after /sys is mounted: the container's own cgroups,
    /// read-only, at /sys/fs/cgroup (so `lab-probe limits` reads them).
    void mount_view() const;

private:
    std::unique_ptr<CgroupDriver> driver_;
    CgroupOptions limits_;
};

/// In the child, after the parent has moved it into its cgroup: a new cgroup
/// namespace, whose root is that cgroup (/proc/self/cgroup shows "/").
void enter_cgroup_namespace();
