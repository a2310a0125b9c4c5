// Control groups (man 7 cgroups).  A namespace changes what a process can
// *see*; a cgroup limits what it can *use*.  A cgroup is a directory in the
// cgroup filesystem: mkdir makes one, writing a pid to its cgroup.procs moves
// that process (and its future children) into it, writing its interface
// files sets the limits, rmdir removes it once it holds no process.
//
// Two layouts exist, each with its own driver behind the CgroupDriver
// interface: cgroup v2, one unified tree (cgroup_v2.cpp), and cgroup v1, one
// tree per controller (cgroup_v1.cpp); what both do alike is in
// cgroup_tree.cpp.  This file holds what does not depend on the layout: the
// flags, the detection of this machine's layout with statfs(2) of
// /sys/fs/cgroup (as crun and nsjail do), and the container's cgroup.
//
// The parent does all of this (the child cannot: the cgroupfs is the host's),
// and it does it before releasing the child, so the container is limited
// from its first instruction.  The child then unshares a cgroup namespace
// (man 7 cgroup_namespaces): its cgroup becomes its root, "/".
#include "cgroups.hpp"

#include "cgroup_tree.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/process.hpp>
#include <nsrun/sys.hpp>

#include <charconv>
#include <cmath>
#include <csignal>
#include <linux/magic.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// docker's minimum: below a few MiB not even a shell starts.
constexpr unsigned long long min_memory = 6ULL << 20;
/// The kernel's cap on the number of pids (PID_MAX_LIMIT on 64-bit).
constexpr unsigned long long max_pids = 4194304;

// --- the command line -------------------------------------------------------

std::optional<unsigned long long> parse_whole(const std::string& text) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

long online_cpus() { return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)); }

} // namespace

std::string check_cpus(const std::string& text) {
    const std::string accepted =
        fmt::format("give a number of CPUs from 0.01 to {} (this machine's), e.g. 0.5", online_cpus());
    double cpus = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cpus);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(cpus)) {
        return fmt::format("'{}' is not a number: {}", text, accepted);
    }
    if (cpus < 0.01 || cpus > static_cast<double>(online_cpus())) {
        return fmt::format("{} is out of range: {}", text, accepted);
    }
    return {};
}

std::string check_cpu_weight(const std::string& text) {
    const auto weight = parse_whole(text);
    if (!weight || *weight < 1 || *weight > 10000) {
        return fmt::format("'{}' is not a valid weight: give a whole number from 1 to 10000 (default 100)", text);
    }
    return {};
}

std::string check_pids_limit(const std::string& text) {
    const auto pids = parse_whole(text);
    if (!pids || *pids < 1 || *pids > max_pids) {
        return fmt::format("'{}' is not a valid limit: give a whole number of processes from 1 to {}", text,
                           max_pids);
    }
    return {};
}

/// A transform: "64m" → "67108864", so CLI11 stores bytes.
std::string size_to_bytes(std::string& text) {
    unsigned long long bytes = 0;
    try {
        bytes = nsrun::cli::parse_size(text);
    } catch (const std::exception& e) { // parse_size names the accepted forms
        return e.what();
    }
    if (bytes < min_memory) {
        return fmt::format("'{}' is too small: give at least 6m (bytes, or a number with a k, m or g suffix)", text);
    }
    text = std::to_string(bytes);
    return {};
}

namespace {

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

} // namespace

std::uint64_t cpu_quota_us(double cpus) {
    return static_cast<std::uint64_t>(std::llround(cpus * static_cast<double>(cpu_period_us)));
}

std::uint64_t cpu_shares_of_weight(unsigned weight) { return (weight * 1024ULL + 50) / 100; }

std::unique_ptr<CgroupDriver> detect_cgroup_driver(const std::string& root) {
    const long type = nsrun::sys::statfs_type(root);
    if (type == CGROUP2_SUPER_MAGIC) {
        nsrun::explain::note("{} is a cgroup2 mount: cgroup v2 (unified)", root);
        return make_cgroup_v2_driver(root);
    }
    if (type == TMPFS_MAGIC) {
        const std::string unified = root + "/unified";
        if (nsrun::fs::is_directory(unified) && nsrun::sys::statfs_type(unified) == CGROUP2_SUPER_MAGIC) {
            const std::string available = nsrun::sys::read_file(unified + "/cgroup.controllers");
            bool all = true;
            for (const char* controller : cgroup_tree::needed_controllers) {
                all = all && cgroup_tree::lists(available, controller);
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

Cgroup::Cgroup(std::unique_ptr<CgroupDriver> driver, const std::string& id, const CgroupOptions& limits)
    : driver_(std::move(driver)), limits_(limits) {
    nsrun::explain::note("container id {}: its cgroup is nsrun/{} ({})", id, id, driver_->name());
    try {
        driver_->create(id);
        driver_->set_limits(limits);
    } catch (...) {
        driver_->remove();
        throw;
    }
}

Cgroup::~Cgroup() { driver_->remove(); }

void Cgroup::add_process(pid_t pid) { driver_->add_process(pid); }

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

void enter_cgroup_namespace() { nsrun::sys::unshare(CLONE_NEWCGROUP); }
