/// @file netns.hpp
/// The network namespace: the container's own network stack, wired to the
/// host by a veth pair.
#pragma once

#include <nsrun/netlink.hpp>

#include "spec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

/// Plan: the mode a rootless container (step 06) gets — it cannot create
/// links on the host, so its default is `none`; an explicit veth or bridge
/// is refused (125).  `given`: --network was on the command line.
NetworkMode network_for(NetworkMode mode, bool given, bool rootless);

/// How the container's eth0 is wired, decided by the parent before clone
/// (the child gets a copy of it with the rest of its memory).
struct LinkPlan {
    std::string host_name;                          ///< the host's end: "nsr-<id>"
    nsrun::netlink::Cidr container_address;         ///< eth0's address
    std::uint32_t gateway = 0;                      ///< eth0's default route
    std::optional<nsrun::netlink::Cidr> host_address; ///< the host end's address, if any
};

/// Plan: whether the child makes its network namespace itself, with
/// unshare(CLONE_NEWNET) as its first step, instead of clone making it with
/// the others.  Only when nobody outside needs it before `go`: no veth to
/// move in (`link`), no uid map to wait for (`userns`: its network namespace
/// belongs to the new user namespace, made at clone), no OCI `create`
/// (`oci_create`: prestart and createRuntime hooks are handed the child's
/// pid and may configure /proc/PID/ns/net at once).  Creating one is the
/// dearest of the namespaces (~0.5 ms here, a whole network stack): made by
/// clone, the parent waits for it before its own half of the start — the
/// record, the cgroup — which then ends after the child's; made by the
/// child, it is paid on the child's CPU while the parent works (`run
/// --network none` 0.2 ms shorter, faster in 118 of 200 starts in turns).
bool child_makes_network_namespace(const ContainerSpec& spec, bool link, bool userns, bool oci_create);

/// In the child, first of its steps (child_makes_network_namespace): its own
/// network namespace, holding only `lo`, down.
void make_network_namespace();

/// For --network veth: the names for container `id` and a /30 out of
/// 10.202.0.0/16 — the host end gets its first address, eth0 the second.
LinkPlan plan_veth(const std::string& id);

/// In the parent, after clone, before the child is released: create the
/// pair, move the peer into the network namespace of `child` as eth0, bring
/// the host end up (with its address, if the plan has one).
void attach_veth(const LinkPlan& plan, pid_t child);

/// Teardown from the record: delete the host end (which takes eth0 with it,
/// should the container's namespace still exist).  Idempotent: a veth the
/// kernel already destroyed with its namespace is fine.
void remove_veth(const std::string& host_name) noexcept;

/// In the child, inside its network namespace: loopback up (a new
/// namespace's lo is down), and, when `plan` is given, eth0's address, eth0
/// up and the default route.
void configure_inside(const ContainerSpec& spec, const LinkPlan* plan);
