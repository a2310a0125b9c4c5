// Port publishing and NAT: `-p 8080:80` makes a container's port 80 reachable
// at the host's port 8080, and containers reach the outside through the
// host's address.
#pragma once

#include "bridge.hpp"

#include <nsrun/fd.hpp>
#include <nsrun/netlink.hpp>

#include <cstdint>
#include <string>
#include <vector>

/// One -p/--publish: [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp].
struct Publish {
    std::string host_ip;              ///< "" = every address of the host
    std::uint16_t host_port = 0;
    std::uint16_t container_port = 0;
    std::string protocol = "tcp";     ///< "tcp" or "udp"

    /// Throws std::invalid_argument naming the accepted form.
    static Publish parse(const std::string& text);
    /// "127.0.0.1:8080->80/tcp", as docker ps shows it.
    [[nodiscard]] std::string str() const;
};

struct NatOptions {
    std::vector<std::string> publish; ///< as given, validated by Publish::parse
};

/// The check of one -p/--publish (main.cpp declares the option): empty if
/// Publish::parse takes TEXT, else why not.
std::string check_publish(const std::string& text);

/// In the parent, before anything is created: bind one socket per published
/// port on the host (without SO_REUSEADDR) and keep it for the container's
/// life.  A port already taken — published by another container (which holds
/// it the same way) or bound by any process on the host — fails here with
/// 125, before the container starts; and while we hold it nobody else can
/// take it.
class PortReservations {
public:
    explicit PortReservations(const NatOptions& options, NetworkMode mode);
    [[nodiscard]] const std::vector<Publish>& ports() const noexcept { return ports_; }

private:
    std::vector<Publish> ports_;
    std::vector<nsrun::UniqueFd> sockets_;
};

/// In the parent, for a container on the bridge: the runtime's nft table
/// (created once: DNAT maps, masquerade), this container's entries in its
/// maps — each with an owner record in STATE/ports, written first — and the
/// sysctls NAT needs.  Entries whose owner is gone (a runtime killed with
/// SIGKILL) are deleted first.  The destructor deletes exactly this
/// container's entries and records, on every exit path; nothing else is
/// touched.
class PortMapping {
public:
    PortMapping(const std::string& state_dir, const BridgeOptions& bridge, const PortReservations& ports,
                const nsrun::netlink::Cidr& container);
    PortMapping(const PortMapping&) = delete;
    PortMapping& operator=(const PortMapping&) = delete;
    ~PortMapping();

private:
    void remove_records() noexcept;
    std::vector<std::string> added_;   ///< the map elements we added, as nft "delete element …" commands
    std::vector<std::string> records_; ///< their owner records, STATE/ports/…
};
