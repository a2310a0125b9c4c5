#include "nsrun/netlink.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace nsrun::netlink {

// --- addresses ---------------------------------------------------------------

std::uint32_t parse_ipv4(const std::string& text) {
    in_addr addr{};
    if (::inet_pton(AF_INET, text.c_str(), &addr) != 1) {
        throw Error{fmt::format("'{}' is not an IPv4 address", text), "write it as four numbers, e.g. 10.203.0.1"};
    }
    return ntohl(addr.s_addr);
}

std::string format_ipv4(std::uint32_t address) {
    return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff, address & 0xff);
}

Cidr Cidr::parse(const std::string& text) {
    const auto slash = text.find('/');
    Cidr cidr;
    cidr.address = parse_ipv4(text.substr(0, slash));
    if (slash != std::string::npos) {
        const std::string digits = text.substr(slash + 1);
        if (digits.empty() || digits.size() > 2 || !std::all_of(digits.begin(), digits.end(), ::isdigit) ||
            std::stoul(digits) > 32) {
            throw Error{fmt::format("'{}': the prefix length must be 0..32", text), "e.g. 10.203.0.0/16"};
        }
        cidr.prefix = static_cast<unsigned>(std::stoul(digits));
    }
    return cidr;
}

std::string Cidr::str() const { return fmt::format("{}/{}", ip(), prefix); }
std::string Cidr::ip() const { return format_ipv4(address); }
std::uint32_t Cidr::network() const {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return address & mask;
}
std::uint64_t Cidr::size() const { return std::uint64_t{1} << (32 - prefix); }
Cidr Cidr::host(std::uint32_t index) const { return Cidr{network() + index, prefix}; }
bool Cidr::contains(std::uint32_t other) const { return Cidr{other, prefix}.network() == network(); }

// --- building requests -------------------------------------------------------
//
// The layout (man 7 netlink, man 3 rtnetlink):
//
//   nlmsghdr { len, type, flags, seq, pid }   16 bytes
//   fixed header (ifinfomsg, …)               padded to 4 bytes
//   rtattr { len, type } payload              each padded to 4 bytes;
//   rtattr { len, type } [ rtattr … ]         a nested attribute's payload is attributes

Message::Message(std::uint16_t type, std::uint16_t flags) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
    append(&header, sizeof header);
}

void Message::append(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    bytes_.insert(bytes_.end(), bytes, bytes + size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
    const auto length = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
}

Message& Message::attr(std::uint16_t type, const void* data, std::size_t size) {
    rtattr header{};
    header.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    header.rta_type = type;
    std::vector<unsigned char> chunk(RTA_SPACE(size), 0);
    std::memcpy(chunk.data(), &header, sizeof header);
    if (size != 0) {
        std::memcpy(chunk.data() + RTA_LENGTH(0), data, size);
    }
    append(chunk.data(), chunk.size());
    return *this;
}

Message& Message::attr_u32(std::uint16_t type, std::uint32_t value) { return attr(type, &value, sizeof value); }

Message& Message::attr_string(std::uint16_t type, const std::string& value) {
    return attr(type, value.c_str(), value.size() + 1);
}

Message& Message::attr_ipv4(std::uint16_t type, std::uint32_t address) {
    const std::uint32_t network_order = htonl(address);
    return attr(type, &network_order, sizeof network_order);
}

std::size_t Message::begin_nest(std::uint16_t type) {
    const std::size_t offset = bytes_.size();
    attr(type, nullptr, 0);
    return offset;
}

void Message::end_nest(std::size_t offset) {
    // The nest's length covers its header and everything appended since.
    const auto length = static_cast<unsigned short>(bytes_.size() - offset);
    std::memcpy(bytes_.data() + offset + offsetof(rtattr, rta_len), &length, sizeof length);
}

void Message::set_sequence(std::uint32_t seq) {
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_seq), &seq, sizeof seq);
}

std::uint16_t Message::type() const {
    std::uint16_t type = 0;
    std::memcpy(&type, bytes_.data() + offsetof(nlmsghdr, nlmsg_type), sizeof type);
    return type;
}

std::string message_type_name(std::uint16_t type) {
    switch (type) {
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_DELLINK: return "RTM_DELLINK";
    case RTM_GETLINK: return "RTM_GETLINK";
    case RTM_SETLINK: return "RTM_SETLINK";
    case RTM_NEWADDR: return "RTM_NEWADDR";
    case RTM_DELADDR: return "RTM_DELADDR";
    case RTM_NEWROUTE: return "RTM_NEWROUTE";
    case RTM_DELROUTE: return "RTM_DELROUTE";
    default: return fmt::format("netlink message type {}", type);
    }
}

// --- parsing replies ---------------------------------------------------------

namespace {

/// The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one.
std::string extended_ack_text(const nlmsghdr* header) {
    if ((header->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
        return {};
    }
    const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
    // After nlmsgerr comes the echoed request: the whole of it, unless capped.
    std::size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if ((header->nlmsg_flags & NLM_F_CAPPED) == 0) {
        offset += NLMSG_ALIGN(error->msg.nlmsg_len) - NLMSG_HDRLEN;
    }
    auto remaining = static_cast<int>(header->nlmsg_len) - static_cast<int>(offset);
    const auto* attribute =
        reinterpret_cast<const rtattr*>(reinterpret_cast<const unsigned char*>(header) + offset);
    for (; remaining > 0 && RTA_OK(attribute, remaining); attribute = RTA_NEXT(attribute, remaining)) {
        if (attribute->rta_type == NLMSGERR_ATTR_MSG) {
            return std::string(static_cast<const char*>(RTA_DATA(attribute)));
        }
    }
    return {};
}

} // namespace

Reply parse_reply(const void* buffer, std::size_t size, std::uint32_t seq) {
    Reply reply;
    auto remaining = static_cast<int>(size);
    for (auto* header = static_cast<const nlmsghdr*>(buffer); NLMSG_OK(header, remaining);
         header = NLMSG_NEXT(header, remaining)) {
        if (header->nlmsg_seq != seq) {
            continue; // an answer to something else (or a stale one): not ours
        }
        if (header->nlmsg_type == NLMSG_ERROR) {
            // An ACK is an "error" message whose error is 0.
            if (header->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
                reply.done = true;
                reply.error = EBADMSG;
                return reply;
            }
            const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
            reply.done = true;
            reply.error = -error->error;
            reply.detail = extended_ack_text(header);
            return reply;
        }
        if (header->nlmsg_type == NLMSG_DONE) {
            reply.done = true;
            return reply;
        }
        const auto* bytes = reinterpret_cast<const unsigned char*>(header);
        reply.messages.emplace_back(bytes, bytes + header->nlmsg_len);
    }
    return reply;
}

// --- the socket --------------------------------------------------------------

Socket::Socket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (!fd_) {
        throw SysError("socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)", errno);
    }
    // Ask for the kernel's error text ("Invalid prefix for given prefix length") in error replies.
    const int on = 1;
    (void)::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK; // nl_pid 0: the kernel assigns our port id
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) == -1) {
        throw SysError("bind(netlink socket)", errno);
    }
}

int Socket::transact(Message& message, std::vector<std::vector<unsigned char>>& replies, std::string& detail) {
    message.set_sequence(++seq_);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    const auto& bytes = message.bytes();
    if (::sendto(fd_.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof kernel) != static_cast<ssize_t>(bytes.size())) {
        return errno;
    }
    alignas(nlmsghdr) unsigned char buffer[32768];
    for (;;) {
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        Reply reply = parse_reply(buffer, static_cast<std::size_t>(n), seq_);
        std::move(reply.messages.begin(), reply.messages.end(), std::back_inserter(replies));
        if (reply.done) {
            detail = reply.detail;
            return reply.error;
        }
    }
}

std::vector<std::vector<unsigned char>> Socket::request(Message& message, const std::function<std::string()>& what) {
    // Named only when narrating or failing: formatting is work, and in the
    // container's process (`lo` up) its first use faults in fmt's code.
    const auto call = [&] { return fmt::format("netlink {} {}", message_type_name(message.type()), what()); };
    std::vector<std::vector<unsigned char>> replies;
    std::string detail;
    const int err = transact(message, replies, detail);
    if (err != 0) {
        explain::note("{} {}{}", call(), explain::result(-1, err), detail.empty() ? "" : fmt::format(" \"{}\"", detail));
        throw SysError(detail.empty() ? call() : fmt::format("{} (kernel: {})", call(), detail), err);
    }
    if (explain::enabled()) {
        explain::note("{} = 0", call());
    }
    return replies;
}

namespace {

ifinfomsg link_header(int index = 0) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    return info;
}

} // namespace

bool Socket::link_exists(const std::string& name) {
    try {
        link_index(name);
        return true;
    } catch (const SysError& e) {
        if (e.error_number() == ENODEV) {
            return false;
        }
        throw;
    }
}

int Socket::link_index(const std::string& name) {
    Message message(RTM_GETLINK, 0);
    message.put(link_header()).attr_string(IFLA_IFNAME, name);
    const std::string call = fmt::format("netlink RTM_GETLINK {}", name);
    std::vector<std::vector<unsigned char>> replies;
    std::string detail;
    int err = transact(message, replies, detail);
    for (const auto& reply : replies) {
        const auto* header = reinterpret_cast<const nlmsghdr*>(reply.data());
        if (err == 0 && header->nlmsg_type == RTM_NEWLINK) {
            const auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(header));
            explain::note("{} = index {}", call, info->ifi_index);
            return info->ifi_index;
        }
    }
    err = err != 0 ? err : ENODEV;
    explain::note("{} {}", call, explain::result(-1, err));
    throw SysError(call, err);
}

void Socket::create_veth(const std::string& name, const std::string& peer) {
    // IFLA_LINKINFO { KIND "veth", DATA { VETH_INFO_PEER { ifinfomsg, IFNAME peer } } }
    Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.put(link_header()).attr_string(IFLA_IFNAME, name);
    const auto linkinfo = message.begin_nest(IFLA_LINKINFO);
    message.attr_string(IFLA_INFO_KIND, "veth");
    const auto data = message.begin_nest(IFLA_INFO_DATA);
    const auto peer_info = message.begin_nest(VETH_INFO_PEER);
    message.put(link_header()).attr_string(IFLA_IFNAME, peer);
    message.end_nest(peer_info);
    message.end_nest(data);
    message.end_nest(linkinfo);
    request(message, [&] { return fmt::format("veth {} <-> {} (peer)", name, peer); });
}

void Socket::create_veth_into(const std::string& name, const std::string& peer, pid_t pid) {
    // As create_veth, with the peer's namespace among the peer's attributes:
    // VETH_INFO_PEER { ifinfomsg, IFNAME peer, NET_NS_PID pid }
    Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.put(link_header()).attr_string(IFLA_IFNAME, name);
    const auto linkinfo = message.begin_nest(IFLA_LINKINFO);
    message.attr_string(IFLA_INFO_KIND, "veth");
    const auto data = message.begin_nest(IFLA_INFO_DATA);
    const auto peer_info = message.begin_nest(VETH_INFO_PEER);
    message.put(link_header())
        .attr_string(IFLA_IFNAME, peer)
        .attr_u32(IFLA_NET_NS_PID, static_cast<std::uint32_t>(pid));
    message.end_nest(peer_info);
    message.end_nest(data);
    message.end_nest(linkinfo);
    request(message, [&] { return fmt::format("veth {} <-> {} (peer, in the netns of pid {})", name, peer, pid); });
}

void Socket::create_bridge(const std::string& name) {
    Message message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.put(link_header()).attr_string(IFLA_IFNAME, name);
    const auto linkinfo = message.begin_nest(IFLA_LINKINFO);
    message.attr_string(IFLA_INFO_KIND, "bridge");
    message.end_nest(linkinfo);
    request(message, [&] { return fmt::format("bridge {}", name); });
}

void Socket::delete_link(const std::string& name) {
    Message message(RTM_DELLINK, 0);
    message.put(link_header()).attr_string(IFLA_IFNAME, name);
    request(message, [&] { return name; });
}

void Socket::move_to_netns(const std::string& name, pid_t pid, const std::string& new_name) {
    // Addressed by index, so that IFLA_IFNAME can carry the new name.
    Message message(RTM_NEWLINK, 0);
    message.put(link_header(link_index(name)))
        .attr_u32(IFLA_NET_NS_PID, static_cast<std::uint32_t>(pid))
        .attr_string(IFLA_IFNAME, new_name);
    request(message, [&] { return fmt::format("{} -> netns of pid {} as {}", name, pid, new_name); });
}

void Socket::set_up(const std::string& name, bool up) {
    // Named by IFLA_IFNAME with index 0: the kernel looks the link up by
    // name itself, one round trip instead of RTM_GETLINK + RTM_NEWLINK.
    ifinfomsg info = link_header();
    info.ifi_flags = up ? IFF_UP : 0;
    info.ifi_change = IFF_UP; // only this flag changes
    Message message(RTM_NEWLINK, 0);
    message.put(info).attr_string(IFLA_IFNAME, name);
    request(message, [&] { return fmt::format("{} {}", name, up ? "up" : "down"); });
}

void Socket::set_master(const std::string& name, const std::string& master) {
    const int master_index = link_index(master);
    Message message(RTM_NEWLINK, 0);
    message.put(link_header(link_index(name))).attr_u32(IFLA_MASTER, static_cast<std::uint32_t>(master_index));
    request(message, [&] { return fmt::format("{} master {}", name, master); });
}

void Socket::add_address(const std::string& name, const Cidr& address) {
    ifaddrmsg info{};
    info.ifa_family = AF_INET;
    info.ifa_prefixlen = static_cast<unsigned char>(address.prefix);
    info.ifa_scope = RT_SCOPE_UNIVERSE;
    info.ifa_index = static_cast<unsigned>(link_index(name));
    Message message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS the same on a non point-to-point link.
    message.put(info).attr_ipv4(IFA_LOCAL, address.address).attr_ipv4(IFA_ADDRESS, address.address);
    if (address.prefix < 31) {
        const std::uint32_t broadcast = address.network() + static_cast<std::uint32_t>(address.size() - 1);
        message.attr_ipv4(IFA_BROADCAST, broadcast);
    }
    request(message, [&] { return fmt::format("{} dev {}", address.str(), name); });
}

void Socket::add_default_route(const std::string& name, std::uint32_t gateway) {
    rtmsg route{};
    route.rtm_family = AF_INET;
    route.rtm_dst_len = 0; // 0.0.0.0/0: the default route
    route.rtm_table = RT_TABLE_MAIN;
    route.rtm_protocol = RTPROT_BOOT;
    route.rtm_scope = RT_SCOPE_UNIVERSE;
    route.rtm_type = RTN_UNICAST;
    const int index = link_index(name);
    Message message(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    message.put(route).attr_ipv4(RTA_GATEWAY, gateway).attr_u32(RTA_OIF, static_cast<std::uint32_t>(index));
    request(message, [&] { return fmt::format("default via {} dev {}", format_ipv4(gateway), name); });
}

} // namespace nsrun::netlink
