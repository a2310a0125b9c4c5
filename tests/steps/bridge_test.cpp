// Step 08 — the bridge: containers are ports of one bridge (default
// `nsrun0`, gateway .1 of the subnet), get distinct addresses even when
// started all at once, reach each other, and leave no lease or host veth
// behind.  Each has its own /etc/hosts and /etc/hostname.  Everything runs in
// a throwaway host (netfixture.hpp).
#include "netfixture.hpp"

#include <algorithm>
#include <csignal>
#include <set>
#include <sstream>
#include <unistd.h>

namespace lab {
namespace {

class Bridge : public NetTest {
protected:
    /// Files under the runtime's state directory other than lock files: the
    /// leases and per-container files still held.
    std::string held_state(const std::string& state_dir = "/run/nsrun") {
        return host().sh("find " + state_dir + " -type f ! -name '*lock*' 2>/dev/null; true").out;
    }
    bool has_host_veth() {
        const auto links = host().links();
        return std::any_of(links.begin(), links.end(), [](const auto& n) { return n.starts_with("nsr-"); });
    }
};

/// A container that prints its network and stays until SIGTERM.
const std::vector<std::string> waiting_container = {
    "sh", "-c", "trap 'exit 0' TERM; lab-probe net; while :; do sleep 0.1; done"};

TEST_F(Bridge, BridgeIsTheDefaultWithGatewayDotOne) {
    const Result r = host().run({"lab-probe", "net"});
    ASSERT_EQ(r.status, 0) << r;
    const std::string eth0 = probe_address(r.out, "eth0");
    EXPECT_TRUE(eth0.starts_with("10.203.") && eth0.ends_with("/16")) << r;
    EXPECT_EQ(value(r.out, "default_via"), "10.203.0.1 dev=eth0") << r;
    const Result bridge = host().exec({"ip", "-o", "-4", "addr", "show", "dev", "nsrun0"});
    EXPECT_NE(bridge.out.find("inet 10.203.0.1/16"), std::string::npos) << bridge;
}

TEST_F(Bridge, HostEndIsAPortOfTheBridge) {
    auto c = host().start(waiting_container);
    ASSERT_TRUE(c->wait_for_output("default_via=")) << c->err();
    const Result ports = host().exec({"ip", "-o", "link", "show", "master", "nsrun0"});
    EXPECT_NE(ports.out.find("nsr-"), std::string::npos) << ports;
    c->signal(SIGTERM);
    EXPECT_EQ(c->finish().status, 0);
}

TEST_F(Bridge, TwoContainersExchangeTcpAndTheHostReachesThem) {
    auto server = host().start({"sh", "-c", "lab-probe net; exec lab-probe listen 7100"});
    ASSERT_TRUE(server->wait_for_output("listening=7100")) << server->out() << server->err();
    const std::string ip = without_prefix(probe_address(server->out(), "eth0"));
    ASSERT_TRUE(ip.starts_with("10.203.")) << server->out();
    const Result client = host().run({"sh", "-c", "lab-probe net; lab-probe connect " + ip + " 7100 neighbour"});
    EXPECT_EQ(client.status, 0) << client;
    EXPECT_EQ(value(client.out, "reply"), "pong neighbour") << client;
    const Result s = server->finish();
    EXPECT_EQ(value(s.out, "got"), "neighbour") << s;
    // The peer is the other container itself (same segment, no NAT).
    EXPECT_TRUE(value(s.out, "peer").starts_with(without_prefix(probe_address(client.out, "eth0")) + ":")) << s << client;

}

TEST_F(Bridge, HostReachesAContainer) {
    auto server = host().start({"sh", "-c", "lab-probe net; exec lab-probe listen 7102"});
    ASSERT_TRUE(server->wait_for_output("listening=7102")) << server->err();
    const std::string ip = without_prefix(probe_address(server->out(), "eth0"));
    const Result client = host().exec({"lab-probe", "connect", ip, "7102", "from-host"});
    EXPECT_EQ(value(client.out, "reply"), "pong from-host") << client;
    const Result s = server->finish();
    EXPECT_TRUE(value(s.out, "peer").starts_with("10.203.0.1:")) << "the host comes from the gateway" << s;
}

TEST_F(Bridge, ThirtyConcurrentContainersGetThirtyAddressesAndLeaveNothing) {
    constexpr int count = 30;
    std::vector<std::unique_ptr<Runtime>> containers;
    for (int i = 0; i < count; ++i) {
        containers.push_back(host().start(waiting_container));
    }
    std::set<std::string> addresses;
    for (auto& c : containers) {
        ASSERT_TRUE(c->wait_for_output("default_via=", 60s)) << c->out() << c->err();
        addresses.insert(probe_address(c->out(), "eth0"));
    }
    EXPECT_EQ(addresses.size(), static_cast<std::size_t>(count)) << "duplicate addresses were handed out";
    EXPECT_EQ(addresses.count(""), 0u);
    EXPECT_NE(held_state(), "") << "the leases should be files in the state directory";
    for (auto& c : containers) {
        c->signal(SIGTERM);
    }
    for (auto& c : containers) {
        const Result r = c->finish(60s);
        EXPECT_EQ(r.status, 0) << r;
    }
    EXPECT_EQ(held_state(), "") << "leases or per-container files were left behind";
    EXPECT_FALSE(has_host_veth()) << "host veth ends were left behind";
}

TEST_F(Bridge, LeasesAreReleasedOnEveryExitPath) {
    EXPECT_EQ(host().run({"true"}).status, 0);
    EXPECT_EQ(host().run({"sh", "-c", "exit 3"}).status, 3);
    EXPECT_EQ(host().run({"/nonexistent/command"}).status, 127);
    auto killed = host().start(waiting_container);
    ASSERT_TRUE(killed->wait_for_output("default_via="));
    killed->signal(SIGINT); // forwarded; sh has no trap for INT → the container ends by signal
    killed->finish();
    EXPECT_EQ(held_state(), "");
    EXPECT_FALSE(has_host_veth());
}

TEST_F(Bridge, AKilledRuntimesLeaseAndFilesAreTakenOver) {
    auto killed = host().start(waiting_container);
    ASSERT_TRUE(killed->wait_for_output("default_via=")) << killed->err();
    const std::string address = probe_address(killed->out(), "eth0");
    killed->signal(SIGKILL); // the runtime itself: no clean-up code runs
    killed->finish();
    const Result next = host().run({"lab-probe", "net"});
    ASSERT_EQ(next.status, 0) << next;
    EXPECT_EQ(probe_address(next.out, "eth0"), address) << "the dead runtime's address should be free again" << next;
    EXPECT_EQ(held_state(), "") << "the dead runtime's files should be gone after the next run";
    // The kernel destroys a dead namespace's veth asynchronously: allow it a moment.
    for (int i = 0; i < 50 && has_host_veth(); ++i) {
        ::usleep(100 * 1000);
    }
    EXPECT_FALSE(has_host_veth());
}

TEST_F(Bridge, AnAddressIsReusedAfterRelease) {
    const Result a = host().run({"lab-probe", "net"});
    const Result b = host().run({"lab-probe", "net"});
    EXPECT_EQ(probe_address(a.out, "eth0"), probe_address(b.out, "eth0")) << a << b;
}

TEST_F(Bridge, CustomBridgeSubnetAndStateDir) {
    const Result r = host().run({"--bridge", "nsrun-t1", "--subnet", "10.213.7.0/24", "--state-dir",
                                 "/run/nsrun-other", "sh", "-c", "lab-probe net; ls /"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_TRUE(probe_address(r.out, "eth0").starts_with("10.213.7.")) << r;
    EXPECT_TRUE(probe_address(r.out, "eth0").ends_with("/24")) << r;
    EXPECT_EQ(value(r.out, "default_via"), "10.213.7.1 dev=eth0") << r;
    const auto links = host().links();
    EXPECT_NE(std::find(links.begin(), links.end(), "nsrun-t1"), links.end());
    EXPECT_EQ(host().exec({"test", "-d", "/run/nsrun-other"}).status, 0) << "--state-dir was not used";
}

TEST_F(Bridge, BadSubnetIsRefusedWith125) {
    const Result r = host().run({"--subnet", "10.203.0.0/99", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("--subnet"), std::string::npos) << r;
}

TEST_F(Bridge, OwnHostsAndHostnameFilesFromTheStateDirectory) {
    const std::string rootfs_hosts = host().exec({"cat", config().rootfs + "/etc/hosts"}).out;
    const Result r = host().run({"--hostname", "box", "sh", "-c", "lab-probe net; cat /etc/hostname; cat /etc/hosts; echo scribble >> /etc/hosts"});
    ASSERT_EQ(r.status, 0) << r;
    const std::string ip = without_prefix(probe_address(r.out, "eth0"));
    EXPECT_NE(r.out.find("\nbox\n"), std::string::npos) << r;
    EXPECT_NE(r.out.find(ip + "\tbox"), std::string::npos) << "/etc/hosts should map the hostname to eth0's address" << r;
    EXPECT_EQ(host().exec({"cat", config().rootfs + "/etc/hosts"}).out, rootfs_hosts)
        << "the shared rootfs was written";
    const Result mounts = host().run({"lab-probe", "mounts"});
    EXPECT_NE(mounts.out.find("mount=/etc/hosts "), std::string::npos) << mounts;
    EXPECT_NE(mounts.out.find("mount=/etc/hostname "), std::string::npos) << mounts;
}

TEST_F(Bridge, ExplainShowsTheLeaseAndTheBridge) {
    const Result r = host().run({"--explain", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("netlink RTM_NEWLINK bridge nsrun0"), std::string::npos) << r;
    EXPECT_NE(r.err.find("master nsrun0"), std::string::npos) << r;
    EXPECT_NE(r.err.find("flock("), std::string::npos) << r;
}

} // namespace
} // namespace lab
