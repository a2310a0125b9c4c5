// The bridge: every container's host end on one virtual switch, addresses
// leased from a subnet.
#pragma once

#include "netns.hpp"

#include <nsrun/fd.hpp>
#include <nsrun/netlink.hpp>

#include <string>

struct BridgeOptions {
    std::string name = "nsrun0";          ///< --bridge
    std::string subnet = "10.203.0.0/16"; ///< --subnet; the gateway is its .1
};

/// The checks of --bridge NAME and --subnet CIDR (main.cpp declares the
/// options): empty if acceptable, else why not.
std::string check_bridge_name(const std::string& name); ///< a link name: 1-15 characters
std::string check_subnet(const std::string& text);      ///< an IPv4 CIDR, prefix /8 to /29

/// One address of the subnet, held by this container: the file
/// STATE/leases/BRIDGE/IP holding our pid.  Removed on destruction (every
/// exit path); a lease whose pid is dead (a runtime killed with SIGKILL) is
/// taken over by the next container.
class Lease {
public:
    Lease() = default;
    Lease(std::string path, nsrun::netlink::Cidr address) : path_(std::move(path)), address_(address) {}
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    [[nodiscard]] const nsrun::netlink::Cidr& address() const noexcept { return address_; }

private:
    std::string path_;
    nsrun::netlink::Cidr address_;
};

/// In the parent, before clone: under a file lock in the state directory
/// (--state-dir), create the bridge if it is not there yet (with the gateway
/// address, up), and lease the next free address.
Lease join_bridge(const BridgeOptions& options, const std::string& state_dir);

/// The veth plan for a container on the bridge: eth0 gets the leased
/// address, the default route goes via the gateway, the host end has no
/// address (it is a port of the bridge).
LinkPlan plan_bridge_port(const BridgeOptions& options, const std::string& id, const Lease& lease);

/// In the parent, after HostLink::attach: plug the host end into the bridge.
void enslave_to_bridge(const BridgeOptions& options, const LinkPlan& plan);
