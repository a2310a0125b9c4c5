// Unit tests of nsrun/netlink.hpp.  Message building and reply parsing are
// pure bytes; the client itself is exercised for real, but only inside a
// throwaway network namespace that a helper thread unshares (network
// namespaces are per thread), so the machine's own links are never touched.
#include "throwaway_netns.hpp"

#include <nsrun/error.hpp>
#include <nsrun/netlink.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace nl = nsrun::netlink;

namespace {

template <typename T>
T read_at(const std::vector<unsigned char>& bytes, std::size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

} // namespace

// --- addresses ---------------------------------------------------------------

TEST(NetlinkCidr, ParsesAndFormats) {
    const auto cidr = nl::Cidr::parse("10.203.7.9/16");
    EXPECT_EQ(cidr.address, 0x0acb0709u);
    EXPECT_EQ(cidr.prefix, 16u);
    EXPECT_EQ(cidr.str(), "10.203.7.9/16");
    EXPECT_EQ(nl::format_ipv4(cidr.network()), "10.203.0.0");
    EXPECT_EQ(cidr.size(), 65536u);
    EXPECT_EQ(cidr.host(1).str(), "10.203.0.1/16");
    EXPECT_TRUE(cidr.contains(nl::parse_ipv4("10.203.255.254")));
    EXPECT_FALSE(cidr.contains(nl::parse_ipv4("10.204.0.1")));
    EXPECT_EQ(nl::Cidr::parse("192.0.2.1").prefix, 32u);
    EXPECT_EQ(nl::Cidr::parse("0.0.0.0/0").size(), std::uint64_t{1} << 32);
}

TEST(NetlinkCidr, RejectsGarbage) {
    EXPECT_THROW(nl::Cidr::parse("10.203.0.0/33"), nsrun::Error);
    EXPECT_THROW(nl::Cidr::parse("10.203.0/16"), nsrun::Error);
    EXPECT_THROW(nl::Cidr::parse("10.203.0.0/"), nsrun::Error);
    EXPECT_THROW(nl::parse_ipv4("nsrun.example"), nsrun::Error);
}

// --- building messages -------------------------------------------------------

TEST(NetlinkMessage, HeaderCarriesTypeFlagsAndLength) {
    nl::Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    ifinfomsg info{};
    info.ifi_index = 7;
    m.put(info);
    m.set_sequence(42);
    const auto& b = m.bytes();
    ASSERT_EQ(b.size(), NLMSG_HDRLEN + sizeof(ifinfomsg));
    const auto header = read_at<nlmsghdr>(b, 0);
    EXPECT_EQ(header.nlmsg_len, b.size());
    EXPECT_EQ(header.nlmsg_type, RTM_NEWLINK);
    EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    EXPECT_EQ(header.nlmsg_seq, 42u);
    EXPECT_EQ(read_at<ifinfomsg>(b, NLMSG_HDRLEN).ifi_index, 7);
    EXPECT_EQ(m.type(), RTM_NEWLINK);
}

TEST(NetlinkMessage, AttributesArePaddedToFourBytes) {
    nl::Message m(RTM_NEWLINK, 0);
    m.attr_string(IFLA_IFNAME, "eth0"); // 4 header + 5 payload = 9 → 12
    m.attr_u32(IFLA_MTU, 1500);
    const auto& b = m.bytes();
    ASSERT_EQ(b.size(), NLMSG_HDRLEN + 12 + 8);
    const auto name = read_at<rtattr>(b, NLMSG_HDRLEN);
    EXPECT_EQ(name.rta_len, 9);
    EXPECT_EQ(name.rta_type, IFLA_IFNAME);
    EXPECT_STREQ(reinterpret_cast<const char*>(b.data() + NLMSG_HDRLEN + 4), "eth0");
    const auto mtu = read_at<rtattr>(b, NLMSG_HDRLEN + 12);
    EXPECT_EQ(mtu.rta_type, IFLA_MTU);
    EXPECT_EQ(read_at<std::uint32_t>(b, NLMSG_HDRLEN + 16), 1500u);
}

TEST(NetlinkMessage, NestedAttributeCoversItsChildren) {
    nl::Message m(RTM_NEWLINK, 0);
    const auto nest = m.begin_nest(IFLA_LINKINFO);
    m.attr_string(IFLA_INFO_KIND, "veth"); // 4 + 5 → 12
    m.end_nest(nest);
    m.attr_u32(IFLA_MTU, 9000);
    const auto& b = m.bytes();
    const auto linkinfo = read_at<rtattr>(b, NLMSG_HDRLEN);
    EXPECT_EQ(linkinfo.rta_type, IFLA_LINKINFO);
    EXPECT_EQ(linkinfo.rta_len, 4 + 12);
    EXPECT_EQ(read_at<rtattr>(b, NLMSG_HDRLEN + 4).rta_type, IFLA_INFO_KIND);
    EXPECT_EQ(read_at<rtattr>(b, NLMSG_HDRLEN + 16).rta_type, IFLA_MTU);
}

TEST(NetlinkMessage, Ipv4AttributeIsNetworkByteOrder) {
    nl::Message m(RTM_NEWADDR, 0);
    m.attr_ipv4(IFA_LOCAL, nl::parse_ipv4("10.202.0.1"));
    const auto& b = m.bytes();
    EXPECT_EQ(b[NLMSG_HDRLEN + 4], 10);
    EXPECT_EQ(b[NLMSG_HDRLEN + 5], 202);
    EXPECT_EQ(b[NLMSG_HDRLEN + 7], 1);
}

TEST(NetlinkMessage, TypeNamesAreTheKernels) {
    EXPECT_EQ(nl::message_type_name(RTM_NEWLINK), "RTM_NEWLINK");
    EXPECT_EQ(nl::message_type_name(RTM_NEWROUTE), "RTM_NEWROUTE");
}

// --- parsing replies ---------------------------------------------------------

namespace {

std::vector<unsigned char> error_reply(std::uint32_t seq, int error) {
    std::vector<unsigned char> b(NLMSG_LENGTH(sizeof(nlmsgerr)), 0);
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(b.size());
    header.nlmsg_type = NLMSG_ERROR;
    header.nlmsg_seq = seq;
    std::memcpy(b.data(), &header, sizeof header);
    nlmsgerr err{};
    err.error = error;
    std::memcpy(b.data() + NLMSG_HDRLEN, &err, sizeof err);
    return b;
}

} // namespace

TEST(NetlinkReply, AckIsErrorZero) {
    const auto b = error_reply(5, 0);
    const auto reply = nl::parse_reply(b.data(), b.size(), 5);
    EXPECT_TRUE(reply.done);
    EXPECT_EQ(reply.error, 0);
}

TEST(NetlinkReply, ErrorCarriesErrno) {
    const auto b = error_reply(5, -EEXIST);
    const auto reply = nl::parse_reply(b.data(), b.size(), 5);
    EXPECT_TRUE(reply.done);
    EXPECT_EQ(reply.error, EEXIST);
}

TEST(NetlinkReply, OtherSequenceNumbersAreIgnored) {
    const auto b = error_reply(4, -EPERM);
    EXPECT_FALSE(nl::parse_reply(b.data(), b.size(), 5).done);
}

TEST(NetlinkReply, DataMessagesBeforeTheAckAreKept) {
    nlmsghdr data{};
    data.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
    data.nlmsg_type = RTM_NEWLINK;
    data.nlmsg_seq = 9;
    std::vector<unsigned char> b(NLMSG_ALIGN(data.nlmsg_len), 0);
    std::memcpy(b.data(), &data, sizeof data);
    const auto ack = error_reply(9, 0);
    b.insert(b.end(), ack.begin(), ack.end());
    const auto reply = nl::parse_reply(b.data(), b.size(), 9);
    EXPECT_TRUE(reply.done);
    ASSERT_EQ(reply.messages.size(), 1u);
    EXPECT_EQ(read_at<nlmsghdr>(reply.messages[0], 0).nlmsg_type, RTM_NEWLINK);
}

// --- the real thing, in a throwaway network namespace --------------------------

namespace {

class NetlinkKernel : public ThrowawayNetnsTest {};

/// A process parked in its own network namespace, killed on destruction.
class NetnsHolder {
public:
    NetnsHolder() {
        int ready[2];
        if (::pipe(ready) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(ready[0]);
            if (::unshare(CLONE_NEWNET) != 0) ::_exit(1);
            (void)::write(ready[1], "r", 1);
            for (;;) ::pause();
        }
        ::close(ready[1]);
        char c = 0;
        (void)::read(ready[0], &c, 1);
        ::close(ready[0]);
    }
    ~NetnsHolder() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
};

} // namespace

TEST_F(NetlinkKernel, LoopbackGoesUp) {
    in_throwaway_netns([] {
        nl::Socket s;
        EXPECT_EQ(s.link_index("lo"), 1);
        s.set_up("lo");
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ifreq req{};
        std::strcpy(req.ifr_name, "lo");
        ASSERT_EQ(::ioctl(fd, SIOCGIFFLAGS, &req), 0);
        ::close(fd);
        EXPECT_TRUE(req.ifr_flags & IFF_UP);
    });
}

TEST_F(NetlinkKernel, UnknownLinkIsEnodev) {
    in_throwaway_netns([] {
        nl::Socket s;
        EXPECT_FALSE(s.link_exists("nsr-nothere"));
        try {
            s.set_up("nsr-nothere");
            ADD_FAILURE() << "set_up of a missing link succeeded";
        } catch (const nsrun::SysError& e) {
            EXPECT_EQ(e.error_number(), ENODEV);
            EXPECT_THAT(e.what(), testing::HasSubstr("nsr-nothere"));
        }
    });
}

TEST_F(NetlinkKernel, VethPairAddressesAndRoute) {
    in_throwaway_netns([] {
        nl::Socket s;
        s.create_veth("nsr-a", "nsp-a");
        EXPECT_TRUE(s.link_exists("nsr-a"));
        EXPECT_TRUE(s.link_exists("nsp-a"));
        s.add_address("nsr-a", nl::Cidr::parse("10.202.0.1/30"));
        s.add_address("nsp-a", nl::Cidr::parse("10.202.0.2/30"));
        s.set_up("nsr-a");
        s.set_up("nsp-a");
        // The default route must go via an address reachable on the link.
        s.add_default_route("nsp-a", nl::parse_ipv4("10.202.0.1"));
        try {
            s.add_default_route("nsp-a", nl::parse_ipv4("10.202.0.1"));
            ADD_FAILURE() << "a second default route was accepted";
        } catch (const nsrun::SysError& e) {
            EXPECT_EQ(e.error_number(), EEXIST);
        }
        try {
            s.create_veth("nsr-a", "nsp-b");
            ADD_FAILURE() << "a duplicate veth was accepted";
        } catch (const nsrun::SysError& e) {
            EXPECT_EQ(e.error_number(), EEXIST);
            EXPECT_THAT(e.what(), testing::HasSubstr("RTM_NEWLINK veth nsr-a"));
        }
        s.delete_link("nsr-a"); // takes the peer with it
        EXPECT_FALSE(s.link_exists("nsr-a"));
        EXPECT_FALSE(s.link_exists("nsp-a"));
    });
}

TEST_F(NetlinkKernel, BridgeAndMaster) {
    in_throwaway_netns([] {
        nl::Socket s;
        s.create_bridge("nsrun-t0");
        s.add_address("nsrun-t0", nl::Cidr::parse("10.203.0.1/16"));
        s.set_up("nsrun-t0");
        s.create_veth("nsr-b", "nsp-b");
        s.set_master("nsr-b", "nsrun-t0");
        s.delete_link("nsr-b");
        s.delete_link("nsrun-t0");
        EXPECT_FALSE(s.link_exists("nsrun-t0"));
    });
}

TEST_F(NetlinkKernel, MoveIntoAnotherNamespaceByPid) {
    NetnsHolder holder;
    in_throwaway_netns([&] {
        nl::Socket s;
        s.create_veth("nsr-c", "nsp-c");
        s.move_to_netns("nsp-c", holder.pid(), "eth0");
        EXPECT_FALSE(s.link_exists("nsp-c"));
        EXPECT_TRUE(s.link_exists("nsr-c"));
        // Look from inside the holder's namespace: the peer is there as eth0.
        std::thread inside([&] {
            const std::string path = "/proc/" + std::to_string(holder.pid()) + "/ns/net";
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            ASSERT_GE(fd, 0);
            ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
            ::close(fd);
            nl::Socket there;
            EXPECT_TRUE(there.link_exists("eth0"));
            EXPECT_FALSE(there.link_exists("nsr-c"));
        });
        inside.join();
    });
}

TEST_F(NetlinkKernel, APeerCreatedStraightInAnotherNamespace) {
    NetnsHolder holder;
    in_throwaway_netns([&] {
        nl::Socket s;
        s.create_veth_into("nsr-d", "eth0", holder.pid());
        EXPECT_TRUE(s.link_exists("nsr-d"));
        EXPECT_FALSE(s.link_exists("eth0")) << "the peer never was in this namespace";
        std::thread inside([&] {
            const std::string path = "/proc/" + std::to_string(holder.pid()) + "/ns/net";
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            ASSERT_GE(fd, 0);
            ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
            ::close(fd);
            nl::Socket there;
            EXPECT_TRUE(there.link_exists("eth0"));
        });
        inside.join();
        s.delete_link("nsr-d");
        EXPECT_FALSE(s.link_exists("nsr-d"));
    });
}
