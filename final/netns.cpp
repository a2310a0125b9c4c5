// The network namespace (man 7 network_namespaces).  clone(CLONE_NEWNET)
// gives the child its own network stack: interfaces, addresses, routes,
// ports, netfilter rules and /proc/sys/net.  A new one holds only `lo`, and
// it is down.  When nobody outside needs it before the child's `go` (no veth
// to move in: `--network none`), the child makes it itself, with
// unshare(CLONE_NEWNET), while the parent does its half of the start
// (child_makes_network_namespace).
//
// To connect the container, we use a veth pair (man 4 veth): two interfaces
// joined like the ends of a cable.  The parent, still in the host's
// namespace, creates both ends there and then moves one into the child's
// namespace, naming it by the child's pid (IFLA_NET_NS_PID) and renaming it
// eth0 on the way.  The child configures its end from inside: a netlink
// socket talks to the namespace of the process that opened it.
//
// sysfs shows the network devices of the namespace of whoever mounted it, so
// the /sys the child mounts (mount_system_dirs) lists eth0 and lo — not the
// host's interfaces.
#include "netns.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <sched.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nl = nsrun::netlink;

namespace {

/// The lab subnet step 07 carves its /30s from (see plan_veth).
constexpr const char* veth_subnet = "10.202.0.0/16";

} // namespace

NetworkMode network_for(NetworkMode mode, bool given, bool rootless) {
    if (!rootless || mode == NetworkMode::none || mode == NetworkMode::host || mode == NetworkMode::container) {
        return mode;
    }
    if (given) {
        throw nsrun::Error{fmt::format("--network {} needs root: the veth pair is created in the host's network namespace",
                                       mode == NetworkMode::bridge ? "bridge" : "veth"),
                           "run as root, or use --network none (the default when rootless)"};
    }
    // Not an error and not an ignored flag: the default changes, as podman's
    // does without slirp4netns, and we say so once.
    nsrun::cli::print_note("rootless, so no veth (it needs root on the host): using --network none, loopback only");
    return NetworkMode::none;
}

bool child_makes_network_namespace(const ContainerSpec& spec, bool link, bool userns, bool oci_create) {
    const Namespace* net = spec.linux.find("network");
    return net && net->path.empty() && !link && !userns && !oci_create;
}

void make_network_namespace() { nsrun::sys::unshare(CLONE_NEWNET); }

LinkPlan plan_veth(const std::string& id) {
    // One /30 (4 addresses: network, host end, container end, broadcast) per
    // container.  Which one: the runtime's own pid modulo the 16384 /30s, so
    // running runtimes collide only if their pids are 16384 apart.  (A
    // stopgap: step 08 replaces it with leases under a file lock.)
    const nl::Cidr subnet = nl::Cidr::parse(veth_subnet);
    const std::uint32_t slots = static_cast<std::uint32_t>(subnet.size() / 4);
    const std::uint32_t base = subnet.network() + (static_cast<std::uint32_t>(::getpid()) % slots) * 4;
    const std::string short_id = id.substr(0, 8); // interface names have at most 15 characters
    return LinkPlan{
        .host_name = "nsr-" + short_id,
        .container_address = nl::Cidr{base + 2, 30},
        .gateway = base + 1,
        .host_address = nl::Cidr{base + 1, 30},
    };
}

void attach_veth(const LinkPlan& plan, pid_t child) {
    nl::Socket netlink;
    // One request: the peer is born in the child's namespace, as eth0.  Made
    // in the host's and then moved, the pair would for a moment be all ours:
    // a runtime killed then (SIGKILL) would leave it on the host for good.
    netlink.create_veth_into(plan.host_name, "eth0", child);
    if (plan.host_address) {
        netlink.add_address(plan.host_name, *plan.host_address);
    }
    netlink.set_up(plan.host_name);
}

void remove_veth(const std::string& host_name) noexcept {
    if (host_name.empty()) {
        return;
    }
    try {
        nl::Socket netlink;
        if (!netlink.link_exists(host_name)) {
            return;
        }
        netlink.delete_link(host_name);
    } catch (const nsrun::SysError& e) {
        // ENODEV: already gone — when the container's namespace died, the
        // kernel destroyed eth0 and with it its peer, our end.
        if (e.error_number() != ENODEV) {
            nsrun::explain::note("could not delete {}: {}", host_name, e.what());
        }
    } catch (const nsrun::Error& e) {
        nsrun::explain::note("could not delete {}: {}", host_name, e.what());
    }
}

void configure_inside(const ContainerSpec& spec, const LinkPlan* plan) {
    if (!spec.linux.has("network") || !spec.linux.find("network")->path.empty()) {
        return; // the host's network, or another container's: as it is
    }
    nl::Socket netlink; // opened in the child: it speaks to the container's namespace
    netlink.set_up("lo");
    if (plan) {
        netlink.add_address("eth0", plan->container_address);
        netlink.set_up("eth0");
        netlink.add_default_route("eth0", plan->gateway);
    }
}
