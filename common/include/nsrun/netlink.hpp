/// @file netlink.hpp
/// @brief A small rtnetlink client: the requests `ip link`/`ip addr`/`ip route` make.
///
/// rtnetlink (man 7 rtnetlink) is how userspace configures the kernel's
/// network stack: a datagram socket of family AF_NETLINK, protocol
/// NETLINK_ROUTE, on which we send *requests* — a `nlmsghdr`, a fixed header
/// (`ifinfomsg` for links, `ifaddrmsg` for addresses, `rtmsg` for routes) and
/// then type-length-value *attributes* (`rtattr`), possibly nested — and read
/// back an acknowledgement carrying 0 or an errno.
///
/// A socket talks to the network namespace of the process that *created* it,
/// so the parent (in the host's namespace) and the child (in the container's)
/// each open their own.  Every request is narrated in `--explain` mode:
///
///     [parent] netlink RTM_NEWLINK veth nsr-3f2a <-> nsp-3f2a (peer) = 0
///
/// and a failure throws nsrun::SysError naming the request and the errno.
#pragma once

#include "nsrun/fd.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace nsrun::netlink {

/// "10.0.0.1" → host-byte-order value.  Throws nsrun::Error on bad text.
std::uint32_t parse_ipv4(const std::string& text);
/// Host-byte-order value → "10.0.0.1".
std::string format_ipv4(std::uint32_t address);

/// An IPv4 address with its prefix length: "10.203.0.2/16".
struct Cidr {
    std::uint32_t address = 0; ///< host byte order
    unsigned prefix = 32;      ///< 0..32

    /// "A.B.C.D/N" (a bare address means /32).  Throws nsrun::Error.
    static Cidr parse(const std::string& text);
    /// "10.203.0.2/16".
    [[nodiscard]] std::string str() const;
    /// "10.203.0.2" (no prefix).
    [[nodiscard]] std::string ip() const;
    /// The first address of the network: 10.203.0.0 for 10.203.0.2/16.
    [[nodiscard]] std::uint32_t network() const;
    /// How many addresses the network holds (2^(32-prefix)).
    [[nodiscard]] std::uint64_t size() const;
    /// The address `index` within this network, same prefix: host(1) of
    /// 10.203.0.0/16 is 10.203.0.1/16.
    [[nodiscard]] Cidr host(std::uint32_t index) const;
    /// Whether `address` lies in this network.
    [[nodiscard]] bool contains(std::uint32_t address) const;
};

/// One rtnetlink request under construction: header, fixed part, attributes.
/// Pure bytes — building one needs no socket (and is unit-tested as such).
class Message {
public:
    /// A request of `type` (RTM_NEWLINK, …); NLM_F_REQUEST|NLM_F_ACK are
    /// always set, `flags` adds NLM_F_CREATE, NLM_F_EXCL, ….
    Message(std::uint16_t type, std::uint16_t flags);

    /// Append a fixed-size struct (ifinfomsg, ifaddrmsg, rtmsg), padded.
    template <typename T>
    Message& put(const T& fixed) {
        append(&fixed, sizeof fixed);
        return *this;
    }
    /// Append one attribute (rtattr header + payload, padded to 4 bytes).
    Message& attr(std::uint16_t type, const void* data, std::size_t size);
    Message& attr_u32(std::uint16_t type, std::uint32_t value);
    /// A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND).
    Message& attr_string(std::uint16_t type, const std::string& value);
    /// An IPv4 address attribute, in network byte order.
    Message& attr_ipv4(std::uint16_t type, std::uint32_t address);
    /// Open a nested attribute; everything appended until end_nest(offset)
    /// is its payload.  Returns the offset to pass to end_nest.
    std::size_t begin_nest(std::uint16_t type);
    void end_nest(std::size_t offset);

    void set_sequence(std::uint32_t seq);
    [[nodiscard]] std::uint16_t type() const;
    [[nodiscard]] const std::vector<unsigned char>& bytes() const noexcept { return bytes_; }

private:
    void append(const void* data, std::size_t size);
    std::vector<unsigned char> bytes_;
};

/// "RTM_NEWLINK", "RTM_DELADDR", …, or the number.
std::string message_type_name(std::uint16_t type);

/// The kernel's answer to request `seq` found in one received buffer.
struct Reply {
    bool done = false;  ///< an ACK or error for `seq` was found
    int error = 0;      ///< its errno (0: success)
    std::string detail; ///< the kernel's extended-ack text, if it sent one
    /// Data messages for `seq` that came before the ACK (e.g. RTM_NEWLINK
    /// answering RTM_GETLINK), each a whole nlmsghdr-led message.
    std::vector<std::vector<unsigned char>> messages;
};
/// Parse what recv() returned.  Pure: unit-tested with crafted buffers.
Reply parse_reply(const void* buffer, std::size_t size, std::uint32_t seq);

/// An open NETLINK_ROUTE socket in the caller's current network namespace.
class Socket {
public:
    /// socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) + bind.
    Socket();

    /// Send `message`, wait for its acknowledgement, narrate it as
    /// "netlink <TYPE> <what()> = 0", and throw SysError on an error reply.
    /// (`what` is called only then: naming is formatting, and the
    /// container's process brings its `lo` up through here.)
    /// Returns the data messages of the reply (for RTM_GET* requests).
    std::vector<std::vector<unsigned char>> request(Message& message, const std::function<std::string()>& what);

    /// The index of link `name` (RTM_GETLINK); throws SysError(ENODEV) if absent.
    int link_index(const std::string& name);
    /// Whether a link named `name` exists.
    bool link_exists(const std::string& name);

    /// A veth pair: `name` here, its peer `peer` (in the same namespace).
    void create_veth(const std::string& name, const std::string& peer);
    /// A veth pair: `name` here, its peer `peer` created straight in the
    /// network namespace of process `pid` (IFLA_NET_NS_PID among the peer's
    /// attributes).  One request: at no moment are both ends in this
    /// namespace, so whoever is killed at whatever moment leaves no pair
    /// here — when `pid`'s namespace dies, the peer and with it `name` go.
    void create_veth_into(const std::string& name, const std::string& peer, pid_t pid);
    /// A bridge named `name` (down, no address).
    void create_bridge(const std::string& name);
    /// Delete a link (for a veth, both ends go).
    void delete_link(const std::string& name);
    /// Move link `name` into the network namespace of process `pid`
    /// (IFLA_NET_NS_PID), renaming it to `new_name` on the way.
    void move_to_netns(const std::string& name, pid_t pid, const std::string& new_name);
    /// Bring a link up or down (IFF_UP).
    void set_up(const std::string& name, bool up = true);
    /// Enslave link `name` to bridge `master` (IFLA_MASTER).
    void set_master(const std::string& name, const std::string& master);
    /// Add an IPv4 address with prefix to link `name` (RTM_NEWADDR).
    void add_address(const std::string& name, const Cidr& address);
    /// Add a default route via `gateway` out of link `name` (RTM_NEWROUTE).
    void add_default_route(const std::string& name, std::uint32_t gateway);

private:
    /// request() without the narration: returns the errno (0 on success).
    int transact(Message& message, std::vector<std::vector<unsigned char>>& replies, std::string& detail);
    UniqueFd fd_;
    std::uint32_t seq_ = 0;
};

} // namespace nsrun::netlink
