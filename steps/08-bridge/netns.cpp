// The network namespace (man 7 network_namespaces).  clone(CLONE_NEWNET)
// gives the child its own network stack: interfaces, addresses, routes,
// ports, netfilter rules and /proc/sys/net.  A new one holds only `lo`, and
// it is down.
//
// To connect the container, we use a veth pair (man 4 veth): two interfaces
// joined like the ends of a cable.  The parent, still in the host's
// namespace, creates the pair with one end there and the other, eth0,
// straight in the child's namespace, named by the child's pid
// (IFLA_NET_NS_PID).  The child configures its end from inside: a netlink
// socket talks to the namespace of the process that opened it.
//
// sysfs shows the network devices of the namespace of whoever mounted it, so
// the /sys the child mounts (mount_system_dirs) lists eth0 and lo — not the
// host's interfaces.
#include "netns.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nl = nsrun::netlink;

namespace {

/// The lab subnet step 07 carves its /30s from (see plan_veth).
constexpr const char* veth_subnet = "10.202.0.0/16";

} // namespace

int netns_clone_flags(const NetnsOptions& options) {
    return options.mode == NetworkMode::host ? 0 : CLONE_NEWNET;
}

std::string veth_host_name(const std::string& id) {
    return "nsr-" + id.substr(0, 8); // interface names have at most 15 characters
}

LinkPlan plan_veth(const std::string& id) {
    // One /30 (4 addresses: network, host end, container end, broadcast) per
    // container.  Which one: the runtime's own pid modulo the 16384 /30s, so
    // running runtimes collide only if their pids are 16384 apart.  (A
    // stopgap: step 08 replaces it with leases under a file lock.)
    const nl::Cidr subnet = nl::Cidr::parse(veth_subnet);
    const std::uint32_t slots = static_cast<std::uint32_t>(subnet.size() / 4);
    const std::uint32_t base = subnet.network() + (static_cast<std::uint32_t>(::getpid()) % slots) * 4;
    return LinkPlan{
        .host_name = veth_host_name(id),
        .container_address = nl::Cidr{base + 2, 30},
        .gateway = base + 1,
        .host_address = nl::Cidr{base + 1, 30},
    };
}

void HostLink::attach(pid_t child) {
    nl::Socket netlink;
    // One request: the peer is born in the child's namespace, as eth0.  Made
    // in the host's and then moved, the pair would for a moment be all ours:
    // a runtime killed then (SIGKILL) would leave it on the host for good.
    netlink.create_veth_into(plan_.host_name, "eth0", child);
    created_ = true;
    if (plan_.host_address) {
        netlink.add_address(plan_.host_name, *plan_.host_address);
    }
    netlink.set_up(plan_.host_name);
}

HostLink::~HostLink() {
    if (!created_) {
        return;
    }
    try {
        nl::Socket netlink;
        netlink.delete_link(plan_.host_name);
    } catch (const nsrun::SysError& e) {
        // ENODEV: already gone — when the container's namespace died, the
        // kernel destroyed eth0 and with it its peer, our end.
        if (e.error_number() != ENODEV) {
            nsrun::cli::print_warning(fmt::format("could not delete the container's veth {}: {}", plan_.host_name, e.what()));
        }
    } catch (const std::exception& e) {
        nsrun::cli::print_warning(fmt::format("could not delete the container's veth {}: {}", plan_.host_name, e.what()));
    }
}

void configure_inside(const NetnsOptions& options, const LinkPlan* plan) {
    if (options.mode == NetworkMode::host) {
        return; // the host's network, as it is
    }
    nl::Socket netlink; // opened in the child: it speaks to the container's namespace
    netlink.set_up("lo");
    if (plan) {
        netlink.add_address("eth0", plan->container_address);
        netlink.set_up("eth0");
        netlink.add_default_route("eth0", plan->gateway);
    }
}
