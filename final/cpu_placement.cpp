// Where the container's process is set up (cpu_placement.hpp): on another
// CPU than its parent's, then back on the caller's CPUs before COMMAND.
#include "cpu_placement.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <cerrno>

CpuPlacement CpuPlacement::of_caller() noexcept {
    CpuPlacement placement;
    try {
        placement.caller_ = nsrun::sys::sched_getaffinity();
        placement.spread_ = CPU_COUNT(&placement.caller_) > 1;
    } catch (const nsrun::Error&) {
        // more CPUs than a cpu_set_t holds (1024): left to the kernel
    }
    return placement;
}

void CpuPlacement::start_elsewhere(pid_t child) const noexcept {
    if (!spread_) {
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
