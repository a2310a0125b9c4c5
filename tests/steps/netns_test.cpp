// Step 07 — the network namespace: the container has its own network stack
// (loopback only with --network none; a veth pair to the host by default),
// and shares the host's with --network host.  Every test runs the runtime in
// a throwaway host (netfixture.hpp): nothing touches the machine's network.
#include "netfixture.hpp"

#include <algorithm>
#include <csignal>
#include <sstream>
#include <unistd.h>

namespace lab {
namespace {

class Netns : public NetTest {};

using Strings = std::vector<std::string>;

Strings sorted(Strings v) {
    std::sort(v.begin(), v.end());
    return v;
}

bool has_prefix(const Strings& names, const std::string& prefix) {
    return std::any_of(names.begin(), names.end(), [&](const auto& n) { return n.starts_with(prefix); });
}

/// "10.202.3.6/30" → its /30's first address "10.202.3.5".
std::string first_of_slash30(const std::string& cidr) {
    const std::string ip = without_prefix(cidr);
    const auto dot = ip.rfind('.');
    const int last = std::stoi(ip.substr(dot + 1));
    return ip.substr(0, dot + 1) + std::to_string((last & ~3) + 1);
}

TEST_F(Netns, NoneHasOnlyLoopbackUp) {
    const Result r = host().run({"--network", "none", "lab-probe", "net"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(probe_interfaces(r.out), Strings{"lo"}) << r;
    EXPECT_EQ(value(r.out, "iface"), "lo index=1 up=1") << "loopback must be up" << r;
    EXPECT_EQ(probe_address(r.out, "lo"), "127.0.0.1/8") << r;
    EXPECT_EQ(value(r.out, "default_via"), "") << r;
}

TEST_F(Netns, VethGivesLoopbackAndEth0WithASlash30) {
    const Result r = host().run({"--network", "veth", "lab-probe", "net"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(sorted(probe_interfaces(r.out)), (Strings{"eth0", "lo"})) << r;
    const std::string eth0 = probe_address(r.out, "eth0");
    EXPECT_TRUE(eth0.starts_with("10.202.") && eth0.ends_with("/30")) << "eth0 needs a /30 of 10.202.0.0/16" << r;
    EXPECT_EQ(value(r.out, "default_via"), first_of_slash30(eth0) + " dev=eth0") << r;
    for (const auto& line : values(r.out, "iface")) {
        EXPECT_TRUE(line.ends_with("up=1")) << line << r;
    }
}

TEST_F(Netns, VethIsTheDefault) {
    const Result r = host().run({"lab-probe", "net"});
    ASSERT_EQ(r.status, 0) << r;
    const auto names = probe_interfaces(r.out);
    EXPECT_NE(std::find(names.begin(), names.end(), "eth0"), names.end()) << r;
    EXPECT_NE(value(r.out, "default_via"), "") << r;
}

TEST_F(Netns, HostEndHasTheFirstAddressWhileTheContainerRuns) {
    auto container = host().start({"--network", "veth", "sh", "-c", "lab-probe net; exec lab-probe sleep 10"});
    ASSERT_TRUE(container->wait_for_output("default_via=")) << container->err();
    const std::string eth0 = probe_address(container->out(), "eth0");
    const Result addrs = host().exec({"ip", "-o", "-4", "addr", "show"});
    // "7: nsr-1a2b3c4d    inet 10.202.3.5/30 …"
    bool found = false;
    std::istringstream lines(addrs.out);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(" nsr-") != std::string::npos &&
            line.find("inet " + first_of_slash30(eth0) + "/30") != std::string::npos) {
            found = true;
        }
    }
    EXPECT_TRUE(found) << "the host end nsr-… should hold " << first_of_slash30(eth0) << "/30:\n" << addrs.out;
    container->signal(SIGKILL);
    container->finish();
}

TEST_F(Netns, HostReachesAServerInTheContainer) {
    auto container = host().start({"--network", "veth", "sh", "-c", "lab-probe net; exec lab-probe listen 7000"});
    ASSERT_TRUE(container->wait_for_output("listening=7000")) << container->out() << container->err();
    const std::string ip = without_prefix(probe_address(container->out(), "eth0"));
    ASSERT_FALSE(ip.empty()) << container->out();
    const Result client = host().exec({"lab-probe", "connect", ip, "7000", "hello"});
    EXPECT_EQ(client.status, 0) << client;
    EXPECT_EQ(value(client.out, "reply"), "pong hello") << client;
    const Result server = container->finish();
    EXPECT_EQ(server.status, 0) << server;
    EXPECT_EQ(value(server.out, "got"), "hello") << server;
    EXPECT_TRUE(value(server.out, "peer").starts_with(first_of_slash30(ip + "/30") + ":")) << server;
}

TEST_F(Netns, ContainerReachesTheHostEnd) {
    auto server = host().spawn({"lab-probe", "listen", "7001"});
    ASSERT_TRUE(server->wait_for_output("listening=7001")) << server->err();
    const Result r = host().run(
        {"--network", "veth", "sh", "-c",
         "lab-probe net; gw=$(lab-probe net | sed -n 's/^default_via=\\([^ ]*\\).*/\\1/p'); lab-probe connect $gw 7001 hi"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "reply"), "pong hi") << r;
    const Result s = server->finish();
    EXPECT_EQ(value(s.out, "got"), "hi") << s;
    EXPECT_TRUE(value(s.out, "peer").starts_with(without_prefix(probe_address(r.out, "eth0")) + ":"))
        << "the host should see the container's eth0 address" << s << r;
}

TEST_F(Netns, HostNetworkSharesTheHostsInterfaces) {
    ASSERT_EQ(host().exec({"ip", "link", "add", "nsx-marker", "type", "veth", "peer", "name", "nsx-marker-p"}).status, 0);
    const Result r = host().run({"--network", "host", "lab-probe", "net"});
    ASSERT_EQ(r.status, 0) << r;
    const Result here = host().exec({"lab-probe", "net"});
    EXPECT_EQ(sorted(probe_interfaces(r.out)), sorted(probe_interfaces(here.out))) << r << here;
    const auto names = probe_interfaces(r.out);
    EXPECT_NE(std::find(names.begin(), names.end(), "nsx-marker"), names.end()) << r;
}

TEST_F(Netns, SysfsShowsTheContainersOwnInterfaces) {
    const Result r = host().run({"--network", "veth", "ls", "/sys/class/net"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find("eth0"), std::string::npos) << r;
    EXPECT_NE(r.out.find("lo"), std::string::npos) << r;
    EXPECT_EQ(r.out.find("nsr-"), std::string::npos) << "the host's interfaces are visible in /sys" << r;
    const Result none = host().run({"--network", "none", "ls", "/sys/class/net"});
    EXPECT_EQ(none.out, "lo\n") << none;
}

TEST_F(Netns, NothingIsLeftOnTheHostAfterExit) {
    EXPECT_EQ(host().run({"--network", "veth", "true"}).status, 0);
    EXPECT_EQ(host().run({"--network", "veth", "false"}).status, 1);
    EXPECT_EQ(host().run({"--network", "veth", "/nonexistent"}).status, 127);
    auto stopped = host().start(
        {"--network", "veth", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"});
    ASSERT_TRUE(stopped->wait_for_output("ready")) << stopped->err();
    stopped->signal(SIGTERM); // forwarded to the container's PID 1
    EXPECT_EQ(stopped->finish().status, 0);
    EXPECT_FALSE(has_prefix(host().links(), "nsr-")) << "a host veth end was left behind";
    EXPECT_FALSE(has_prefix(host().links(), "nsp-")) << "a peer was left behind";
}

TEST_F(Netns, ExplainNarratesTheNetlinkRequests) {
    const Result r = host().run({"--explain", "--network", "veth", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("netlink RTM_NEWLINK veth nsr-"), std::string::npos) << r;
    EXPECT_NE(r.err.find("CLONE_NEWNET"), std::string::npos) << r;
    EXPECT_NE(r.err.find("netlink RTM_NEWROUTE default via"), std::string::npos) << r;
}

// With step 06's user namespace: the veth still works, and the new network
// namespace (owned by the user namespace) lets the container mount a sysfs
// of its own instead of borrowing the host's.
TEST_F(Netns, UsernsVethAndOwnSysfs) {
    const Result r = host().run({"--userns", "--network", "veth", "sh", "-c", "lab-probe net; ls /sys/class/net"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_TRUE(probe_address(r.out, "eth0").starts_with("10.202.")) << r;
    EXPECT_NE(r.out.find("\neth0\nlo\n"), std::string::npos) << "/sys/class/net should be the container's" << r;
}

// Rootless (step 06): a veth cannot be made without root on the host, so the
// default becomes loopback only, and asking for a veth is a clear 125.
TEST_F(Netns, RootlessDefaultsToLoopbackOnly) {
    const std::pair<uid_t, gid_t> nobody{65534, 65534};
    Launch launch = host().runtime({"lab-probe", "net"});
    launch.as_user = nobody;
    const Result r = run(launch);
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(probe_interfaces(r.out), Strings{"lo"}) << r;
    Launch veth = host().runtime({"--network", "veth", "true"});
    veth.as_user = nobody;
    const Result refused = run(veth);
    EXPECT_EQ(refused.status, 125) << refused;
    EXPECT_NE(refused.err.find("--network"), std::string::npos) << refused;
}

TEST_F(Netns, AnUnknownModeIsRefusedWith125) {
    const Result r = host().run({"--network", "carrier-pigeon", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("--network"), std::string::npos) << r;
}

} // namespace
} // namespace lab
