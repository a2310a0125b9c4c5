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
// A runtime killed with SIGKILL cannot remove its entries, and an entry
// left behind would send the port's traffic to whichever container leases
// that address next.  So, as with leases, each entry has an owner record,
// written *before* the entry is added: STATE/ports/<map>-<key>, holding the
// runtime's pid and start time and the command that deletes the entry.
// Every runtime on the bridge, under STATE/ports/lock, first deletes the
// entries whose owner is gone, then records and adds its own.
//
// Three details make `curl 127.0.0.1:8080` on the host work: packets the host
// sends itself never pass prerouting, hence the same DNAT in output; the
// kernel treats 127.0.0.0/8 leaving through a non-loopback interface as a
// martian and drops it unless net.ipv4.conf.all.route_localnet=1; and the
// container must not see 127.0.0.1 as the source (it would answer itself),
// hence the masquerade of 127.0.0.0/8.  Forwarding between interfaces is off
// by default: net.ipv4.ip_forward=1.
#include "nat.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/identity.hpp>
#include <nsrun/nft.hpp>
#include <nsrun/sys.hpp>
#include <nsrun/sysctl.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <dirent.h>
#include <netinet/in.h>
#include <optional>
#include <stdexcept>
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

std::uint16_t parse_port(const std::string& text, const std::string& whole) {
    const auto bad = [&] {
        return std::invalid_argument(fmt::format(
            "'{}': ports are 1-65535; the form is [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]",
            whole));
    };
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) {
        throw bad();
    }
    const unsigned long port = std::stoul(text);
    if (port == 0 || port > 65535) {
        throw bad();
    }
    return static_cast<std::uint16_t>(port);
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
    case NetworkMode::bridge:
        break;
    }
    return {};
}

/// The owner record of one map entry: who added it, and how to delete it.
struct OwnerRecord {
    nsrun::ProcessIdentity owner;
    std::string delete_command; ///< "delete element ip nsrun publish_any { tcp . 8080 }"

    [[nodiscard]] std::string str() const { return fmt::format("{}\n{}\n", owner.str(), delete_command); }
    /// nullopt for an empty or garbled record (its writer was killed half-way).
    static std::optional<OwnerRecord> parse(const std::string& text) {
        const auto newline = text.find('\n');
        const auto owner = nsrun::ProcessIdentity::parse(text.substr(0, newline));
        if (!owner || newline == std::string::npos) {
            return std::nullopt;
        }
        std::string command = text.substr(newline + 1);
        while (!command.empty() && command.back() == '\n') {
            command.pop_back();
        }
        if (!command.starts_with("delete element ip nsrun ")) {
            return std::nullopt;
        }
        return OwnerRecord{*owner, command};
    }
};

/// The record file of an entry: STATE/ports/publish_any-tcp-8080.
std::string record_path(const std::string& dir, const Publish& p) {
    return p.host_ip.empty() ? fmt::format("{}/publish_any-{}-{}", dir, p.protocol, p.host_port)
                             : fmt::format("{}/publish_ip-{}-{}-{}", dir, p.host_ip, p.protocol, p.host_port);
}

/// Under the ports lock: delete every entry whose owner is gone (its record
/// names a dead process, or is empty or garbled), then its record.
void reclaim_entries_of_dead_owners(nsrun::nft::Context& nft, const std::string& dir) {
    DIR* listing = ::opendir(dir.c_str());
    if (!listing) {
        return;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name.starts_with("publish_")) {
            names.push_back(name);
        }
    }
    ::closedir(listing);
    for (const auto& name : names) {
        const std::string path = dir + "/" + name;
        std::optional<OwnerRecord> record;
        try {
            record = OwnerRecord::parse(nsrun::sys::read_file(path));
        } catch (const nsrun::SysError&) {
            continue; // removed by its owner meanwhile
        }
        if (record && nsrun::is_alive(record->owner)) {
            continue;
        }
        nsrun::explain::note("{}: its runtime ({}) is gone: deleting its entry", path,
                             record ? fmt::format("pid {}", record->owner.pid) : "no owner recorded");
        if (record) {
            nft.try_run(record->delete_command); // "No such file": it was never added, fine
        }
        nsrun::sys::unlink(path);
    }
}

} // namespace

Publish Publish::parse(const std::string& text) {
    Publish p;
    std::string rest = text;
    if (const auto slash = rest.rfind('/'); slash != std::string::npos) {
        p.protocol = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (p.protocol != "tcp" && p.protocol != "udp") {
            throw std::invalid_argument(fmt::format("'{}': the protocol is tcp or udp", text));
        }
    }
    const auto last = rest.rfind(':');
    if (last == std::string::npos) {
        throw std::invalid_argument(fmt::format(
            "'{}': give [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp], e.g. 8080:80", text));
    }
    p.container_port = parse_port(rest.substr(last + 1), text);
    rest = rest.substr(0, last);
    if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        p.host_ip = rest.substr(0, colon);
        rest = rest.substr(colon + 1);
        try {
            nl::parse_ipv4(p.host_ip);
        } catch (const nsrun::Error& e) {
            throw std::invalid_argument(fmt::format("'{}': {}", text, e.what()));
        }
    }
    p.host_port = parse_port(rest, text);
    return p;
}

std::string Publish::str() const {
    return fmt::format("{}{}->{}/{}", host_ip.empty() ? "" : host_ip + ":", host_port, container_port, protocol);
}

std::string check_publish(const std::string& text) {
    try {
        Publish::parse(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return {};
}

PortReservations::PortReservations(const NatOptions& options, NetworkMode mode) {
    for (const auto& text : options.publish) {
        ports_.push_back(Publish::parse(text));
    }
    if (!ports_.empty() && mode != NetworkMode::bridge) {
        throw nsrun::Error{"--publish needs --network bridge", publish_hint(mode)};
    }
    for (const auto& p : ports_) {
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

PortMapping::PortMapping(const std::string& state_dir, const BridgeOptions& bridge, const PortReservations& ports,
                         const nl::Cidr& container) {
    const std::string records = state_dir + "/ports";
    nsrun::fs::make_dirs(records);
    const nsrun::fs::FileLock lock(records + "/lock");
    nsrun::sysctl::write("net.ipv4.ip_forward", "1");
    nsrun::nft::Context nft;
    std::string error;
    // Created once; a runtime racing us to it makes ours fail with EEXIST, which is fine.
    if (!nft.try_run("list table ip nsrun") && !nft.try_run(table_setup, &error) &&
        error.find("File exists") == std::string::npos) {
        throw nsrun::Error{fmt::format("cannot create the nft table ip nsrun: {}", error)};
    }
    const nl::Cidr subnet = nl::Cidr::parse(bridge.subnet);
    nft.run(fmt::format("add element ip nsrun subnets {{ {}/{} }}", nl::format_ipv4(subnet.network()),
                        subnet.prefix));
    reclaim_entries_of_dead_owners(nft, records);
    if (ports.ports().empty()) {
        return;
    }
    nsrun::sysctl::write("net.ipv4.conf.all.route_localnet", "1");
    std::string batch;
    const auto self = nsrun::ProcessIdentity::self();
    for (const auto& p : ports.ports()) {
        const std::string target = fmt::format("{} . {}", container.ip(), p.container_port);
        const std::string key = p.host_ip.empty() ? fmt::format("{} . {}", p.protocol, p.host_port)
                                                  : fmt::format("{} . {} . {}", p.host_ip, p.protocol, p.host_port);
        const char* map = p.host_ip.empty() ? "publish_any" : "publish_ip";
        batch += fmt::format("add element ip nsrun {} {{ {} : {} }}\n", map, key, target);
        added_.push_back(fmt::format("delete element ip nsrun {} {{ {} }}", map, key));
        // The owner first: should we be killed right after adding, the next runtime knows whose it was.
        records_.push_back(record_path(records, p));
        nsrun::fs::write_file_atomic(records_.back(), OwnerRecord{self, added_.back()}.str());
    }
    // We hold the host ports, so an entry already there for one of them is
    // stale (left by a runtime that kept no record): drop it first.
    nsrun::explain::note("dropping stale entries for our ports, if any (\"No such file\" is the normal answer)");
    for (const auto& command : added_) {
        nft.try_run(command); // one by one: most are absent, and that is fine
    }
    try {
        nft.run(batch);
    } catch (...) {
        added_.clear(); // one transaction: nothing was added
        remove_records();
        throw;
    }
}

void PortMapping::remove_records() noexcept {
    for (const auto& path : records_) {
        if (::unlink(path.c_str()) == -1) {
            nsrun::cli::print_warning(fmt::format("could not remove the owner record {}: {}", path,
                                                  nsrun::errno_text(errno)));
        }
    }
    records_.clear();
}

PortMapping::~PortMapping() {
    if (added_.empty()) {
        remove_records();
        return;
    }
    try {
        nsrun::nft::Context nft;
        std::string batch;
        for (const auto& command : added_) {
            batch += command + "\n";
        }
        std::string error;
        if (!nft.try_run(batch, &error)) {
            // The records stay: once we are gone, the next runtime deletes the entries.
            nsrun::cli::print_warning(fmt::format("could not remove the container's published ports: {}", error));
            return;
        }
    } catch (const std::exception& e) {
        nsrun::cli::print_warning(fmt::format("could not remove the container's published ports: {}", e.what()));
        return;
    }
    remove_records();
}
