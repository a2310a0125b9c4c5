/// @file cpu_placement.hpp
/// Where the container's process is set up: on another CPU than its
/// parent's, so that the two halves of a start really run at once — when
/// another CPU is free to take it.
///
/// After clone the parent does the outside (the record, the cgroup, the
/// uid/gid maps, the veth) while the child does the inside (its mounts), and
/// only then sends `go`.  That overlap needs two CPUs.  The kernel places a
/// new process itself, and may put it on its parent's CPU — whenever the
/// other CPUs look busy at the moment of clone, and, on a VM whose scheduler
/// packs tasks onto few virtual CPUs to save waking the others, most of the
/// time.  There it waits until the parent blocks: on the reference VM (2
/// vCPUs) in 24 of 40 starts, ~1.4 ms each, the other CPU idle meanwhile.
/// So the parent moves the child to its other CPUs right after clone, and
/// the child takes the caller's CPUs back as soon as `go` came, before
/// anything of COMMAND's runs: `run` is 0.1–0.55 ms shorter (four rounds of
/// 100–150 starts in turns, faster in 73–99), for ~0.6 ms more CPU (waking
/// the idle CPU).
///
/// Only when a CPU is idle, though.  On a busy machine the other CPU runs
/// something else, and the child, held there, waits behind it at each of
/// its wakeups: with a busy loop on the second CPU, `run` took 19.2 ms
/// moved and 16.0 ms left to the kernel (faster in 86 of 100).  So the
/// plan counts the machine's runnable tasks (/proc/loadavg) — when the
/// start begins, and if every CPU was busy then, again just before clone
/// and right after it (a kernel worker finishing the previous container's
/// teardown is often runnable at one of those moments) — and the child is
/// moved only if one count left another CPU free.  Idle, that is as fast as
/// always moving it (+0.04 ms, faster in 96 of 200); with the busy loop, 2.0
/// ms faster (79 of 100).
///
/// The three halves of a primitive, without a teardown: nothing outlives the
/// start.  COMMAND runs on exactly the CPUs its caller could (or, with a
/// cpuset, the cgroup's: attaching to a cpuset sets them).
#pragma once

#include <optional>
#include <sched.h>
#include <string_view>
#include <sys/types.h>

/// The number of runnable tasks in /proc/loadavg's text ("0.20 0.18 0.12
/// 2/345 4242": 2), if it has one.
std::optional<int> runnable_tasks(std::string_view loadavg);

class CpuPlacement {
public:
    /// The plan, in the parent when the start begins: the CPUs the caller
    /// may run on, and whether one of them looks free now.
    static CpuPlacement of_caller() noexcept;
    /// The plan, right before clone: if no other CPU looked free at the
    /// start, look again.
    void look_again() noexcept;

    /// Parent, right after clone: `child` may run only on the caller's CPUs
    /// other than the one the parent runs on now (the kernel moves it there),
    /// if one of them is free (looking a last time if none was before).
    /// Nothing when the caller has a single CPU.  Never fails the start: a
    /// failure (the child already gone, say) is only narrated.
    void start_elsewhere(pid_t child) const noexcept;

    /// Child, once `go` came (start_elsewhere ran before the parent sent
    /// it): the caller's CPUs again.  If the container's cpuset leaves none
    /// of them (EINVAL), the cpuset's CPUs, which attaching set, stay.
    void give_back() const;

private:
    cpu_set_t caller_{};
    bool spread_ = false;    ///< more than one CPU to spread over
    bool cpu_free_ = false;  ///< another of the caller's CPUs looked free, at one look
};
