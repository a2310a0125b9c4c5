// Step 07 — the network namespace: the container has its own network stack
// (loopback only with --network none; a veth pair to the host by default),
// and shares the host's with --network host.  Every test runs the runtime in
// a throwaway host (netfixture.hpp): nothing touches the machine's network.
#include "netfixture.hpp"

#include <algorithm>
#include <csignal>
#include <random>
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

/// "eth0, lo" for a message.
std::string joined(const Strings& names) {
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text.empty() ? "none" : text;
}

STEP_TEST(Netns, NoneHasOnlyLoopbackUp,
          "--network none gives the container a network namespace of its own with only the loopback, up, at "
          "127.0.0.1/8, and no default route.") {
    const Result r = host().run({"--network", "none", "lab-probe", "net"});
    REQUIRE(expect_exit(r, 0, "lab-probe net runs and exits 0 in the container"));
    expect_true(probe_interfaces(r.out) == Strings{"lo"}, "only the interface lo inside",
                "the interfaces are: " + joined(probe_interfaces(r.out)), &r);
    expect_value(r, "iface", "lo index=1 up=1", "loopback must be up");
    expect_true(probe_address(r.out, "lo") == "127.0.0.1/8", "lo to have 127.0.0.1/8",
                "it has " + probe_address(r.out, "lo"), &r);
    expect_value(r, "default_via", "", "no default route with --network none");
}

STEP_TEST(Netns, VethGivesLoopbackAndEth0WithASlash30,
          "--network veth gives lo and eth0 (one end of a veth pair), eth0 with a /30 of 10.202.0.0/16, and a "
          "default route via the /30's first address, the host's end.") {
    const Result r = host().run({"--network", "veth", "lab-probe", "net"});
    REQUIRE(expect_exit(r, 0, "lab-probe net runs and exits 0 in the container"));
    expect_true(sorted(probe_interfaces(r.out)) == Strings{"eth0", "lo"}, "exactly the interfaces eth0 and lo",
                "the interfaces are: " + joined(probe_interfaces(r.out)), &r);
    const std::string eth0 = probe_address(r.out, "eth0");
    REQUIRE(expect_true(eth0.starts_with("10.202.") && eth0.ends_with("/30"), "eth0 to have a /30 of 10.202.0.0/16",
                        eth0.empty() ? "it has no address" : "it has " + eth0, &r));
    expect_value(r, "default_via", first_of_slash30(eth0) + " dev=eth0",
                 "the default route goes via the host's end of the veth, the /30's first address");
    for (const auto& line : values(r.out, "iface")) {
        expect_true(line.ends_with("up=1"), "every interface up", "iface=" + line, &r);
    }
}

STEP_TEST(Netns, VethIsTheDefault,
          "Without --network, the container gets a veth (eth0 and a default route).") {
    const Result r = host().run({"lab-probe", "net"});
    REQUIRE(expect_exit(r, 0, "lab-probe net runs and exits 0 in the container"));
    const auto names = probe_interfaces(r.out);
    expect_true(std::find(names.begin(), names.end(), "eth0") != names.end(), "an eth0 inside by default",
                "the interfaces are: " + joined(names), &r);
    expect_true(!value(r.out, "default_via").empty(), "a default route inside by default", "there is none", &r);
}

STEP_TEST(Netns, HostEndHasTheFirstAddressWhileTheContainerRuns,
          "While the container runs, the host's end of the veth (named nsr-…) holds the /30's first address.") {
    auto container = host().start({"--network", "veth", "sh", "-c", "lab-probe net; exec lab-probe sleep 10"});
    REQUIRE(expect_output(*container, "default_via=", "the container prints its network"));
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
    expect_true(found, "the host end nsr-… to hold " + first_of_slash30(eth0) + "/30 (ip -o -4 addr show)",
                "it does not", &addrs);
    container->signal(SIGKILL);
    container->finish();
}

STEP_TEST(Netns, HostReachesAServerInTheContainer,
          "A TCP server in the container is reachable from the host at eth0's address, and sees the host's end "
          "as the peer.") {
    auto container = host().start({"--network", "veth", "sh", "-c", "lab-probe net; exec lab-probe listen 7000"});
    REQUIRE(expect_output(*container, "listening=7000", "the container's server listens on port 7000"));
    const std::string ip = without_prefix(probe_address(container->out(), "eth0"));
    const Result running = container->record();
    REQUIRE(expect_true(!ip.empty(), "eth0 to have an address", "it has none", &running));
    const Result client = host().exec({"lab-probe", "connect", ip, "7000", "hello"});
    expect_exit(client, 0, "the host connects to the container's server");
    expect_value(client, "reply", "pong hello", "the server answers");
    const Result server = container->finish();
    expect_exit(server, 0, "the server exits 0 after one exchange");
    expect_value(server, "got", "hello", "the server got the host's message");
    expect_true(value(server.out, "peer").starts_with(first_of_slash30(ip + "/30") + ":"),
                "the server to see the host's end, " + first_of_slash30(ip + "/30") + ", as the peer",
                "the peer is " + value(server.out, "peer"), &server);
}

STEP_TEST(Netns, ContainerReachesTheHostEnd,
          "From the container, a server on the host is reachable at the default gateway (the host's end), and "
          "it sees eth0's address as the peer.") {
    auto server = host().spawn({"lab-probe", "listen", "7001"});
    REQUIRE(expect_output(*server, "listening=7001", "the host's server listens on port 7001"));
    const Result r = host().run(
        {"--network", "veth", "sh", "-c",
         "lab-probe net; gw=$(lab-probe net | sed -n 's/^default_via=\\([^ ]*\\).*/\\1/p'); lab-probe connect $gw 7001 hi"});
    expect_exit(r, 0, "the container connects to the host at its gateway");
    expect_value(r, "reply", "pong hi", "the host's server answers");
    const Result s = server->finish();
    expect_value(s, "got", "hi", "the host's server got the container's message");
    expect_true(value(s.out, "peer").starts_with(without_prefix(probe_address(r.out, "eth0")) + ":"),
                "the host to see the container's eth0 address as the peer",
                "the peer is " + value(s.out, "peer"), &r);
}

STEP_TEST(Netns, HostNetworkSharesTheHostsInterfaces,
          "--network host keeps the host's network namespace: the container sees exactly the host's interfaces.") {
    REQUIRE(expect_exit(host().exec({"ip", "link", "add", "nsx-marker", "type", "veth", "peer", "name", "nsx-marker-p"}),
                        0, "the test adds a marker interface to the (throwaway) host"));
    const Result r = host().run({"--network", "host", "lab-probe", "net"});
    REQUIRE(expect_exit(r, 0, "lab-probe net runs and exits 0 in the container"));
    const Result here = host().exec({"lab-probe", "net"});
    expect_true(sorted(probe_interfaces(r.out)) == sorted(probe_interfaces(here.out)),
                "the host's interfaces inside: " + joined(sorted(probe_interfaces(here.out))),
                "the container has " + joined(sorted(probe_interfaces(r.out))), &r);
    const auto names = probe_interfaces(r.out);
    expect_true(std::find(names.begin(), names.end(), "nsx-marker") != names.end(),
                "the host's marker interface nsx-marker inside", "it is missing", &r);
}

STEP_TEST(Netns, SysfsShowsTheContainersOwnInterfaces,
          "/sys/class/net inside lists the container's own interfaces (a sysfs of its network namespace), not "
          "the host's.") {
    const Result r = host().run({"--network", "veth", "ls", "/sys/class/net"});
    REQUIRE(expect_exit(r, 0, "ls /sys/class/net works in the container"));
    expect_stdout_contains(r, "eth0", "the container's eth0 is in its /sys/class/net");
    expect_stdout_contains(r, "lo", "the container's lo is in its /sys/class/net");
    expect_stdout_lacks(r, "nsr-", "the host's interfaces must not be visible in /sys");
    const Result none = host().run({"--network", "none", "ls", "/sys/class/net"});
    expect_true(none.out == "lo\n", "only lo in /sys/class/net with --network none", "it lists: " + none.out, &none);
}

STEP_TEST(Netns, NothingIsLeftOnTheHostAfterExit,
          "After containers that exit 0, exit 1, fail to start (127) or are stopped by SIGTERM, no veth end "
          "(nsr-…, nsp-…) is left on the host.") {
    expect_exit(host().run({"--network", "veth", "true"}), 0, "`true` exits 0");
    expect_exit(host().run({"--network", "veth", "false"}), 1, "`false` exits 1");
    expect_exit(host().run({"--network", "veth", "/nonexistent"}), 127, "/nonexistent is not found");
    auto stopped = host().start(
        {"--network", "veth", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"});
    REQUIRE(expect_output(*stopped, "ready", "the container's shell prints ready"));
    stopped->signal(SIGTERM); // forwarded to the container's PID 1
    const Result r = stopped->finish();
    expect_exit(r, 0, "SIGTERM is forwarded; the container's TERM trap exits 0");
    expect_true(!has_prefix(host().links(), "nsr-"), "no host veth end (nsr-…) left on the host",
                "one was left behind: " + joined(host().links()), &r);
    expect_true(!has_prefix(host().links(), "nsp-"), "no peer (nsp-…) left on the host",
                "one was left behind: " + joined(host().links()), &r);
}

STEP_TEST(Netns, RuntimesKilledDuringSetupLeaveNoVeth,
          "30 runtimes with --network veth are killed by SIGKILL at a random moment of their first 40 ms; "
          "afterwards the host has exactly the links it had before: no veth end left behind (a pair made in "
          "the host, its runtime killed before the peer left, would stay there for good).") {
    const Strings before = sorted(host().links());
    std::mt19937 random{std::random_device{}()};
    for (int i = 0; i < 30; ++i) {
        auto killed = host().start({"--network", "veth", "sleep", "5"});
        ::usleep(static_cast<useconds_t>(random() % 40'000));
        killed->signal(SIGKILL); // the runtime itself, wherever it is in its setup: no clean-up code runs
        killed->finish();
    }
    // The kernel frees a dead container's namespace, and the pair in it, a moment later.
    Strings after = sorted(host().links());
    for (int i = 0; i < 50 && after != before; ++i) {
        ::usleep(100 * 1000);
        after = sorted(host().links());
    }
    expect_true(after == before, "the host's links as before: " + joined(before), "they are: " + joined(after));
}

STEP_TEST(Netns, ExplainNarratesTheNetlinkRequests,
          "--explain narrates the network set-up as netlink requests: the veth pair (RTM_NEWLINK), the new "
          "network namespace (CLONE_NEWNET) and the default route (RTM_NEWROUTE).") {
    const Result r = host().run({"--explain", "--network", "veth", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"(RTM_NEWLINK.*\bveth\b)", "creating the veth pair",
                    "`netlink RTM_NEWLINK veth nsr-1a2b3c4d <-> eth0 (peer, in the netns of pid 4242) = 0`");
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWNET)", "the new network namespace",
                    "`clone(…|CLONE_NEWNET|SIGCHLD) = 4242`");
    expect_narrated(r, R"(RTM_NEWROUTE.*default)", "adding the default route",
                    "`netlink RTM_NEWROUTE default via 10.202.0.1 dev eth0 = 0`");
}

// With step 06's user namespace: the veth still works, and the new network
// namespace (owned by the user namespace) lets the container mount a sysfs
// of its own instead of borrowing the host's.
STEP_TEST(Netns, UsernsVethAndOwnSysfs,
          "With --userns the veth still works, and the container mounts a sysfs of its own network namespace.") {
    const Result r = host().run({"--userns", "--network", "veth", "sh", "-c", "lab-probe net; ls /sys/class/net"});
    REQUIRE(expect_exit(r, 0, "the container's shell exits 0"));
    expect_true(probe_address(r.out, "eth0").starts_with("10.202."), "eth0 to have an address of 10.202.0.0/16",
                "it has \"" + probe_address(r.out, "eth0") + "\"", &r);
    expect_stdout_contains(r, "\neth0\nlo\n", "/sys/class/net lists the container's own eth0 and lo");
}

// A user namespace with --network host has no network namespace of its own:
// it borrows the host's /sys as step 06 does, host's cgroup mounts included,
// and must still see its own cgroup at /sys/fs/cgroup (on a cgroup v2 host
// mounting it over the host's cgroup2 mount would be EBUSY).
STEP_TEST(Netns, UsernsHostNetworkSeesItsOwnCgroup,
          "With --userns and --network host the container borrows the host's /sys (cgroup mounts included) and "
          "still sees its own cgroup at /sys/fs/cgroup.") {
    const Result r = host().run({"--userns", "--network", "host", "--pids-limit", "42", "lab-probe", "limits"});
    REQUIRE(expect_exit(r, 0, "the container starts with its cgroup view mounted"));
    expect_value(r, "pids.max", "42", "/sys/fs/cgroup shows the container's own cgroup");
}

// Rootless (step 06): a veth cannot be made without root on the host, so the
// default becomes loopback only, and asking for a veth is a clear 125.
STEP_TEST(Netns, RootlessDefaultsToLoopbackOnly,
          "Rootless, a veth cannot be made: the default network falls back to loopback only, and asking for "
          "--network veth is refused with 125, naming the option.") {
    const std::pair<uid_t, gid_t> nobody{65534, 65534};
    Launch launch = host().runtime({"lab-probe", "net"});
    launch.as_user = nobody;
    const Result r = run(launch);
    REQUIRE(expect_exit(r, 0, "a rootless container works, without a veth"));
    expect_true(probe_interfaces(r.out) == Strings{"lo"}, "only lo inside a rootless container",
                "the interfaces are: " + joined(probe_interfaces(r.out)), &r);
    Launch veth = host().runtime({"--network", "veth", "true"});
    veth.as_user = nobody;
    const Result refused = run(veth);
    expect_exit(refused, 125, "an unprivileged user cannot have a veth");
    expect_stderr_contains(refused, "--network", "the message names the option");
}

STEP_TEST(Netns, AnUnknownModeIsRefusedWith125,
          "An unknown --network mode is refused with 125, naming the option.") {
    const Result r = host().run({"--network", "carrier-pigeon", "true"});
    expect_exit(r, 125, "carrier-pigeon is not a network mode");
    expect_stderr_contains(r, "--network", "the message names the option");
}

} // namespace
} // namespace lab
