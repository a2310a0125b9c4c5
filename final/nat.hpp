/// @file nat.hpp
/// Port publishing and NAT: `-p 8080:80` makes a container's port 80 reachable
/// at the host's port 8080, and containers reach the outside through the
/// host's address.
#pragma once

#include "spec.hpp"

#include <nsrun/fd.hpp>
#include <nsrun/netlink.hpp>

#include <string>
#include <vector>

/// In the parent, before anything is created: bind one socket per published
/// port on the host (without SO_REUSEADDR) and keep it for the container's
/// life — the supervisor (foreground runtime or monitor) holds it.  A port
/// already taken — published by another container (which holds it the same
/// way) or bound by any process on the host — fails here with 125, before
/// the container starts; and while we hold it nobody else can take it.
class PortReservations {
public:
    explicit PortReservations(const ContainerSpec& spec);

private:
    std::vector<nsrun::UniqueFd> sockets_;
};

/// Plan (pure): the nft map elements the container's ports become, as
/// "ip nsrun MAP { KEY }" — what the record keeps and teardown deletes.
std::vector<std::string> plan_port_elements(const ContainerSpec& spec);

/// In the parent, for a container on the bridge: the runtime's nft table
/// (created once: DNAT maps, masquerade), this container's entries in its
/// maps, and the sysctls NAT needs.
void add_port_mapping(const ContainerSpec& spec, const nsrun::netlink::Cidr& container);

/// Teardown from the record: delete exactly these elements (one by one: an
/// absent one is fine), and nothing else.  Never throws.
void remove_port_mapping(const std::vector<std::string>& elements) noexcept;
