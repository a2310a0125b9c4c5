// Where the container's process is set up (cpu_placement.hpp): on another
// CPU than its parent's when one is free, then back on the caller's CPUs
// before COMMAND.
#include "cpu_placement.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>
#include <charconv>

std::optional<int> runnable_tasks(std::string_view loadavg) {
    // Three load averages, then "RUNNABLE/TOTAL".
    for (int field = 0; field < 3; ++field) {
        const auto space = loadavg.find(' ');
        if (space == std::string_view::npos) {
            return std::nullopt;
        }
        loadavg.remove_prefix(space + 1);
    }
    int runnable = 0;
    const auto [end, error] = std::from_chars(loadavg.data(), loadavg.data() + loadavg.size(), runnable);
    if (error != std::errc{} || end == loadavg.data() + loadavg.size() || *end != '/') {
        return std::nullopt;
    }
    return runnable;
}

namespace {

/// Whether a CPU other than ours looks idle: the machine's runnable tasks,
/// less `ours` (the parent, and after clone the child), leave one of the
/// other `cpus - 1` CPUs free.  Without /proc (or a loadavg it cannot
/// read), yes: the child is moved, as on an idle machine.
bool a_cpu_looks_free(int cpus, int ours = 1) noexcept {
    try {
        const std::optional<int> runnable = runnable_tasks(nsrun::sys::read_file("/proc/loadavg"));
        const bool free = !runnable || *runnable - ours < cpus - 1;
        if (runnable) {
            nsrun::explain::note("/proc/loadavg: {} runnable task(s) for {} CPUs: {}", *runnable, cpus,
                                 free ? "a CPU is free" : "every CPU is busy");
        }
        return free;
    } catch (const nsrun::Error&) {
        return true;
    }
}

} // namespace

CpuPlacement CpuPlacement::of_caller() noexcept {
    CpuPlacement placement;
    try {
        placement.caller_ = nsrun::sys::sched_getaffinity();
        placement.spread_ = CPU_COUNT(&placement.caller_) > 1;
    } catch (const nsrun::Error&) {
        // more CPUs than a cpu_set_t holds (1024): left to the kernel
    }
    placement.cpu_free_ = placement.spread_ && a_cpu_looks_free(CPU_COUNT(&placement.caller_));
    return placement;
}

void CpuPlacement::look_again() noexcept {
    if (spread_ && !cpu_free_) {
        cpu_free_ = a_cpu_looks_free(CPU_COUNT(&caller_));
    }
}

void CpuPlacement::start_elsewhere(pid_t child) const noexcept {
    if (!spread_) {
        return;
    }
    if (!cpu_free_ && !a_cpu_looks_free(CPU_COUNT(&caller_), /*ours=*/2)) {
        nsrun::explain::note("(the child starts where the kernel puts it: no other CPU is free)");
        return;
    }
    const int here = ::sched_getcpu();
    if (here < 0) {
        return; // not told where we run: left to the kernel
    }
    cpu_set_t others = caller_;
    CPU_CLR(here, &others);
    if (CPU_COUNT(&others) == 0) {
        return; // moved meanwhile onto a CPU outside our own mask (a cpuset changed)
    }
    try {
        nsrun::sys::sched_setaffinity(child, others);
    } catch (const nsrun::Error& e) {
        nsrun::explain::note("(the child starts wherever the kernel put it: {})", e.what());
    }
}

void CpuPlacement::give_back() const {
    if (!spread_) {
        return;
    }
    try {
        nsrun::sys::sched_setaffinity(0, caller_);
    } catch (const nsrun::SysError& e) {
        if (e.error_number() != EINVAL) {
            throw;
        }
        nsrun::explain::note("(the cpuset's CPUs stay: none of the caller's is in it)");
    }
}
