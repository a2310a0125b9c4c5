// NAT with nftables.  The runtime owns one table, `ip nsrun`, and touches
// nothing else in the ruleset.  The table is created once, by the first
// container, in one transaction (`create table` fails if it exists, and then
// the whole batch does — so concurrent runtimes cannot half-create it):
//
//   map publish_any  { inet_proto . inet_service : ipv4_addr . inet_service }
//   map publish_ip   { ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
//   set subnets      { the bridges' subnets }
//   prerouting (dstnat): to a local address? DNAT to the map's container address . port
//   output     (dstnat): the same for connections the host makes itself
//   postrouting (srcnat): from a container subnet to elsewhere → masquerade;
//                         from 127.0.0.0/8 to a container → masquerade
//
// A container's ports are *elements* of the maps:
//
//   add element ip nsrun publish_any { tcp . 8080 : 10.203.0.2 . 80 }
//
// and removing them is as exact as adding them — no rule handles to track.
//
// Three details make `curl 127.0.0.1:8080` on the host work: packets the host
// sends itself never pass prerouting, hence the same DNAT in output; the
// kernel treats 127.0.0.0/8 leaving through a non-loopback interface as a
// martian and drops it unless route_localnet=1 on that interface (nsrun sets
// it on the bridge only, never on `all`); and the
// container must not see 127.0.0.1 as the source (it would answer itself),
// hence the masquerade of 127.0.0.0/8.  Forwarding between interfaces is off
// by default: net.ipv4.ip_forward=1.
#include "nat.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/nft.hpp>
#include <nsrun/sysctl.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace nl = nsrun::netlink;

namespace {

constexpr const char* table_setup = R"(create table ip nsrun
add map ip nsrun publish_any { type inet_proto . inet_service : ipv4_addr . inet_service; }
add map ip nsrun publish_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
add set ip nsrun subnets { type ipv4_addr; flags interval; }
add chain ip nsrun prerouting { type nat hook prerouting priority dstnat; policy accept; }
add chain ip nsrun output { type nat hook output priority -100; policy accept; }
add chain ip nsrun postrouting { type nat hook postrouting priority srcnat; policy accept; }
add rule ip nsrun prerouting fib daddr type local dnat to ip daddr . meta l4proto . th dport map @publish_ip
add rule ip nsrun prerouting fib daddr type local dnat to meta l4proto . th dport map @publish_any
add rule ip nsrun output fib daddr type local dnat to ip daddr . meta l4proto . th dport map @publish_ip
add rule ip nsrun output fib daddr type local dnat to meta l4proto . th dport map @publish_any
add rule ip nsrun postrouting ip saddr @subnets ip daddr != @subnets masquerade
add rule ip nsrun postrouting ip saddr 127.0.0.0/8 ip daddr @subnets masquerade
)";

/// "ip nsrun publish_any { tcp . 8080 }" for one -p.
std::string element_of(const Publish& p) {
    return p.host_ip.empty() ? fmt::format("ip nsrun publish_any {{ {} . {} }}", p.protocol, p.host_port)
                             : fmt::format("ip nsrun publish_ip {{ {} . {} . {} }}", p.host_ip, p.protocol, p.host_port);
}

/// Why --publish does not apply to `mode`, and what to do instead.
std::string publish_hint(NetworkMode mode) {
    switch (mode) {
    case NetworkMode::host:
        return "with --network host the container's ports already are the host's: drop -p";
    case NetworkMode::none:
        return "with --network none the container has only loopback, nothing can reach it: use --network bridge "
               "(the default as root)";
    case NetworkMode::veth:
        return "with --network veth the host reaches the container at its own address (lab-probe net shows it): "
               "use --network bridge to publish ports";
    case NetworkMode::container:
        return "with --network container:NAME the ports are those of the container whose network is shared: "
               "publish them when that container is run";
    case NetworkMode::bridge:
        break;
    }
    return {};
}

} // namespace

PortReservations::PortReservations(const ContainerSpec& spec) {
    if (!spec.nsrun.publish.empty() && spec.nsrun.network != NetworkMode::bridge) {
        throw nsrun::Error{"--publish needs --network bridge", publish_hint(spec.nsrun.network)};
    }
    for (const auto& p : spec.nsrun.publish) {
        const int type = p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM;
        nsrun::UniqueFd fd{::socket(AF_INET, type | SOCK_CLOEXEC, 0)};
        if (!fd) {
            throw nsrun::SysError("socket(AF_INET)", errno);
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(p.host_port);
        addr.sin_addr.s_addr = htonl(p.host_ip.empty() ? INADDR_ANY : nl::parse_ipv4(p.host_ip));
        const std::string where = fmt::format("{}:{}/{}", p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.host_port,
                                              p.protocol);
        const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
        const int err = errno;
        nsrun::explain::note("bind({}) {} (reserving the published port)", where, nsrun::explain::result(rc, err));
        if (rc == -1 && err == EADDRINUSE) {
            throw nsrun::Error{fmt::format("cannot publish {}: port {}/{} is already in use on the host", p.str(),
                                           p.host_port, p.protocol),
                               "another container publishes it, or a host process listens on it: pick another "
                               "HOST_PORT"};
        }
        if (rc == -1) {
            throw nsrun::SysError(fmt::format("bind({})", where), err);
        }
        sockets_.push_back(std::move(fd));
    }
}

std::vector<std::string> plan_port_elements(const ContainerSpec& spec) {
    std::vector<std::string> elements;
    for (const auto& p : spec.nsrun.publish) {
        elements.push_back(element_of(p));
    }
    return elements;
}

void add_port_mapping(const ContainerSpec& spec, const nl::Cidr& container) {
    nsrun::sysctl::write("net.ipv4.ip_forward", "1");
    nsrun::nft::Context nft;
    std::string error;
    // Created once; a runtime racing us to it makes ours fail with EEXIST, which is fine.
    if (!nft.try_run("list table ip nsrun") && !nft.try_run(table_setup, &error) &&
        error.find("File exists") == std::string::npos) {
        throw nsrun::Error{fmt::format("cannot create the nft table ip nsrun: {}", error)};
    }
    const nl::Cidr subnet = nl::Cidr::parse(spec.nsrun.subnet);
    nft.run(fmt::format("add element ip nsrun subnets {{ {}/{} }}", nl::format_ipv4(subnet.network()),
                        subnet.prefix));
    if (spec.nsrun.publish.empty()) {
        return;
    }
    // Only on the bridge: `all` would also route 127.0.0.0/8 from every other
    // interface, and a neighbour could reach the host's localhost-only
    // services (CVE-2020-8558, kube-proxy's route_localnet=1).
    nsrun::sysctl::write(fmt::format("net.ipv4.conf.{}.route_localnet", spec.nsrun.bridge), "1");
    std::string batch;
    for (const auto& p : spec.nsrun.publish) {
        const std::string element = element_of(p);
        // "ip nsrun publish_any { tcp . 8080 }" → "… { tcp . 8080 : 10.203.0.2 . 80 }"
        batch += fmt::format("add element {} : {} . {} }}\n", element.substr(0, element.size() - 2), container.ip(),
                             p.container_port);
    }
    // We hold the host ports, so an entry already there for one of them is
    // stale (its runtime was killed with SIGKILL): drop it first.
    nsrun::explain::note("dropping stale entries for our ports, if any (\"No such file\" is the normal answer)");
    for (const auto& element : plan_port_elements(spec)) {
        nft.try_run("delete element " + element); // one by one: most are absent, and that is fine
    }
    nft.run(batch);
}

void remove_port_mapping(const std::vector<std::string>& elements) noexcept {
    if (elements.empty()) {
        return;
    }
    try {
        nsrun::nft::Context nft;
        for (const auto& element : elements) {
            std::string error;
            if (!nft.try_run("delete element " + element, &error) && error.find("No such file") == std::string::npos) {
                nsrun::explain::note("could not remove the port mapping {}: {}", element, error);
            }
        }
    } catch (const std::exception& e) {
        nsrun::explain::note("could not remove the port mappings: {}", e.what());
    }
}
