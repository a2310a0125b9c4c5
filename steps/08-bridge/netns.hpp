// The network namespace: the container's own network stack, wired to the
// host by a veth pair.
#pragma once

#include <nsrun/netlink.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>

/// --network: none (loopback only), host (no new namespace), veth (a pair),
/// bridge (a pair whose host end is on a bridge, see bridge.hpp).
enum class NetworkMode { none, host, veth, bridge };

struct NetnsOptions {
    NetworkMode mode = NetworkMode::bridge;
    bool given = false; ///< --network was on the command line
};

/// CLONE_NEWNET, unless --network host.
int netns_clone_flags(const NetnsOptions& options);

/// How the container's eth0 is wired, decided by the parent before clone
/// (the child gets a copy of it with the rest of its memory).
struct LinkPlan {
    std::string host_name;                          ///< the host's end: "nsr-<id>" (the peer is eth0)
    nsrun::netlink::Cidr container_address;         ///< eth0's address
    std::uint32_t gateway = 0;                      ///< eth0's default route
    std::optional<nsrun::netlink::Cidr> host_address; ///< the host end's address, if any
};

/// The host's end of container `id`'s veth pair: "nsr-<id>", with the id's
/// first 8 digits (link names have at most 15 characters).  The one place
/// that names a container's links on the host.
std::string veth_host_name(const std::string& id);

/// For --network veth: the names for container `id` and a /30 out of
/// 10.202.0.0/16 — the host end gets its first address, eth0 the second.
LinkPlan plan_veth(const std::string& id);

/// In the parent: the host's end of the container's veth.  attach() makes
/// it; the destructor deletes it on every exit path (which takes eth0 with
/// it, should the container's namespace still exist).
class HostLink {
public:
    explicit HostLink(LinkPlan plan) : plan_(std::move(plan)) {}
    HostLink(const HostLink&) = delete;
    HostLink& operator=(const HostLink&) = delete;
    ~HostLink();

    /// After clone, before the child is released: create the pair, its peer
    /// straight in the network namespace of `child` as eth0, and bring the
    /// host end up (with its address, if the plan has one).
    void attach(pid_t child);
    [[nodiscard]] const LinkPlan& plan() const noexcept { return plan_; }

private:
    LinkPlan plan_;
    bool created_ = false;
};

/// In the child, inside its network namespace: loopback up (a new
/// namespace's lo is down), and, when `plan` is given, eth0's address, eth0
/// up and the default route.
void configure_inside(const NetnsOptions& options, const LinkPlan* plan);
