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
    /// Files under the runtime's state directory other than lock files and
    /// nsrun's compiled seccomp programs (seccomp/, shared by every
    /// container, kept on purpose): the leases and per-container files still held.
    std::string held_state(const std::string& state_dir = "/run/nsrun") {
        return host().sh("find " + state_dir + " -type f ! -name '*lock*' ! -path '*/seccomp/*.bpf' 2>/dev/null; true").out;
    }
    bool has_host_veth() {
        const auto links = host().links();
        return std::any_of(links.begin(), links.end(), [](const auto& n) { return n.starts_with("nsr-"); });
    }
};

/// A container that prints its network and stays until SIGTERM.
const std::vector<std::string> waiting_container = {
    "sh", "-c", "trap 'exit 0' TERM; lab-probe net; while :; do sleep 0.1; done"};

STEP_TEST(Bridge, BridgeIsTheDefaultWithGatewayDotOne,
          "By default the container is a port of the bridge nsrun0: eth0 has an address of 10.203.0.0/16 and "
          "the default route goes via the gateway 10.203.0.1, the bridge's own address.") {
    const Result r = host().run({"lab-probe", "net"});
    REQUIRE(expect_exit(r, 0, "lab-probe net runs and exits 0 in the container"));
    const std::string eth0 = probe_address(r.out, "eth0");
    expect_true(eth0.starts_with("10.203.") && eth0.ends_with("/16"), "eth0 to have an address of 10.203.0.0/16",
                eth0.empty() ? "it has none" : "it has " + eth0, &r);
    expect_value(r, "default_via", "10.203.0.1 dev=eth0", "the gateway is the subnet's .1, on the bridge");
    const Result bridge = host().exec({"ip", "-o", "-4", "addr", "show", "dev", "nsrun0"});
    expect_stdout_contains(bridge, "inet 10.203.0.1/16", "the bridge nsrun0 holds the gateway address");
}

STEP_TEST(Bridge, HostEndIsAPortOfTheBridge,
          "The host's end of the container's veth (nsr-…) is a port of the bridge nsrun0 while it runs.") {
    auto c = host().start(waiting_container);
    REQUIRE(expect_output(*c, "default_via=", "the container prints its network"));
    const Result ports = host().exec({"ip", "-o", "link", "show", "master", "nsrun0"});
    expect_stdout_contains(ports, "nsr-", "a veth end nsr-… is a port of nsrun0");
    c->signal(SIGTERM);
    expect_exit(c->finish(), 0, "SIGTERM is forwarded; the container's TERM trap exits 0");
}

STEP_TEST(Bridge, TwoContainersExchangeTcpAndTheHostReachesThem,
          "Two containers on the bridge talk TCP directly (same segment, no NAT: the server sees the client's "
          "own address).") {
    auto server = host().start({"sh", "-c", "lab-probe net; exec lab-probe listen 7100"});
    REQUIRE(expect_output(*server, "listening=7100", "the server container listens on port 7100"));
    const std::string ip = without_prefix(probe_address(server->out(), "eth0"));
    const Result running = server->record();
    REQUIRE(expect_true(ip.starts_with("10.203."), "the server's eth0 in 10.203.0.0/16",
                        ip.empty() ? "it has no address" : "it has " + ip, &running));
    const Result client = host().run({"sh", "-c", "lab-probe net; lab-probe connect " + ip + " 7100 neighbour"});
    expect_exit(client, 0, "the client container connects to the server container");
    expect_value(client, "reply", "pong neighbour", "the server answers");
    const Result s = server->finish();
    expect_value(s, "got", "neighbour", "the server got the client's message");
    // The peer is the other container itself (same segment, no NAT).
    expect_true(value(s.out, "peer").starts_with(without_prefix(probe_address(client.out, "eth0")) + ":"),
                "the server to see the client container's own address as the peer",
                "the peer is " + value(s.out, "peer"), &s);
}

STEP_TEST(Bridge, HostReachesAContainer,
          "The host reaches a container's server over the bridge, coming from the gateway address 10.203.0.1.") {
    auto server = host().start({"sh", "-c", "lab-probe net; exec lab-probe listen 7102"});
    REQUIRE(expect_output(*server, "listening=7102", "the server container listens on port 7102"));
    const std::string ip = without_prefix(probe_address(server->out(), "eth0"));
    const Result client = host().exec({"lab-probe", "connect", ip, "7102", "from-host"});
    expect_value(client, "reply", "pong from-host", "the container's server answers the host");
    const Result s = server->finish();
    expect_true(value(s.out, "peer").starts_with("10.203.0.1:"), "the host to come from the gateway, 10.203.0.1",
                "the peer is " + value(s.out, "peer"), &s);
}

STEP_TEST(Bridge, ThirtyConcurrentContainersGetThirtyAddressesAndLeaveNothing,
          "30 containers started at once get 30 distinct addresses (the leases are locked), and once stopped "
          "leave no lease, no file and no host veth behind.") {
    constexpr int count = 30;
    std::vector<std::unique_ptr<Runtime>> containers;
    for (int i = 0; i < count; ++i) {
        containers.push_back(host().start(waiting_container));
    }
    std::set<std::string> addresses;
    for (auto& c : containers) {
        REQUIRE(expect_output(*c, "default_via=", "every container prints its network", 60s));
        addresses.insert(probe_address(c->out(), "eth0"));
    }
    expect_true(addresses.size() == static_cast<std::size_t>(count), "30 distinct addresses",
                std::to_string(addresses.size()) + " distinct ones: duplicate addresses were handed out");
    expect_true(addresses.count("") == 0u, "every container to have an address", "one has none");
    expect_true(held_state() != "", "the leases as files in the state directory /run/nsrun", "there are none");
    for (auto& c : containers) {
        c->signal(SIGTERM);
    }
    for (auto& c : containers) {
        expect_exit(c->finish(60s), 0, "SIGTERM is forwarded; the container's TERM trap exits 0");
    }
    const std::string held = held_state();
    expect_true(held.empty(), "no lease or per-container file left in /run/nsrun", "these were left:\n" + held);
    expect_true(!has_host_veth(), "no host veth end (nsr-…) left", "some were left behind");
}

STEP_TEST(Bridge, LeasesAreReleasedOnEveryExitPath,
          "The address lease and the host veth are released on every exit path: exit 0, exit 3, command not "
          "found, killed by a signal.") {
    expect_exit(host().run({"true"}), 0, "`true` exits 0");
    expect_exit(host().run({"sh", "-c", "exit 3"}), 3, "the container exits 3");
    expect_exit(host().run({"/nonexistent/command"}), 127, "the command is not found");
    auto killed = host().start(waiting_container);
    REQUIRE(expect_output(*killed, "default_via=", "the container prints its network"));
    killed->signal(SIGINT); // forwarded; sh has no trap for INT → the container ends by signal
    const Result r = killed->finish();
    const std::string held = held_state();
    expect_true(held.empty(), "no lease or per-container file left in /run/nsrun", "these were left:\n" + held, &r);
    expect_true(!has_host_veth(), "no host veth end (nsr-…) left", "one was left behind", &r);
}

STEP_TEST(Bridge, AKilledRuntimesLeaseAndFilesAreTakenOver,
          "A runtime killed by SIGKILL cannot release its lease: the next run finds its owner dead, takes the "
          "address over and removes the dead runtime's files.") {
    auto killed = host().start(waiting_container);
    REQUIRE(expect_output(*killed, "default_via=", "the container prints its network"));
    const std::string address = probe_address(killed->out(), "eth0");
    killed->signal(SIGKILL); // the runtime itself: no clean-up code runs
    killed->finish();
    const Result next = host().run({"lab-probe", "net"});
    REQUIRE(expect_exit(next, 0, "the next container runs"));
    expect_true(probe_address(next.out, "eth0") == address,
                "the dead runtime's address " + address + " to be free again and given to the next container",
                "it got " + probe_address(next.out, "eth0"), &next);
    const std::string held = held_state();
    expect_true(held.empty(), "the dead runtime's files gone after the next run", "these were left:\n" + held,
                &next);
    // The kernel destroys a dead namespace's veth asynchronously: allow it a moment.
    for (int i = 0; i < 50 && has_host_veth(); ++i) {
        ::usleep(100 * 1000);
    }
    expect_true(!has_host_veth(), "no host veth end (nsr-…) left", "one was left behind", &next);
}

STEP_TEST(Bridge, AnAddressIsReusedAfterRelease,
          "An address is free again once its container has ended: two runs one after the other get the same "
          "one.") {
    const Result a = host().run({"lab-probe", "net"});
    const Result b = host().run({"lab-probe", "net"});
    expect_true(probe_address(a.out, "eth0") == probe_address(b.out, "eth0"),
                "the second run to get the first one's address, " + probe_address(a.out, "eth0"),
                "it got " + probe_address(b.out, "eth0"), &b);
}

STEP_TEST(Bridge, CustomBridgeSubnetAndStateDir,
          "--bridge, --subnet and --state-dir are honoured: the container gets an address of the subnet, the "
          "gateway is its .1, the bridge has the name given, the state lives in the directory given.") {
    const Result r = host().run({"--bridge", "nsrun-t1", "--subnet", "10.213.7.0/24", "--state-dir",
                                 "/run/nsrun-other", "sh", "-c", "lab-probe net; ls /"});
    REQUIRE(expect_exit(r, 0, "the container runs"));
    const std::string eth0 = probe_address(r.out, "eth0");
    expect_true(eth0.starts_with("10.213.7.") && eth0.ends_with("/24"), "eth0 to have an address of 10.213.7.0/24",
                eth0.empty() ? "it has none" : "it has " + eth0, &r);
    expect_value(r, "default_via", "10.213.7.1 dev=eth0", "the gateway is the subnet's .1");
    const auto links = host().links();
    expect_true(std::find(links.begin(), links.end(), "nsrun-t1") != links.end(), "a bridge named nsrun-t1",
                "there is none", &r);
    expect_exit(host().exec({"test", "-d", "/run/nsrun-other"}), 0, "--state-dir /run/nsrun-other was made and used");
}

STEP_TEST(Bridge, BadSubnetIsRefusedWith125,
          "An invalid --subnet is refused with 125, naming the option.") {
    const Result r = host().run({"--subnet", "10.203.0.0/99", "true"});
    expect_exit(r, 125, "/99 is not a prefix length");
    expect_stderr_contains(r, "--subnet", "the message names the option");
}

STEP_TEST(Bridge, OwnHostsAndHostnameFilesFromTheStateDirectory,
          "Each container gets its own /etc/hostname and /etc/hosts (mapping its hostname to its address), "
          "mounted from the state directory: the shared rootfs is never written.") {
    const std::string rootfs_hosts = host().exec({"cat", config().rootfs + "/etc/hosts"}).out;
    const Result r = host().run({"--hostname", "box", "sh", "-c", "lab-probe net; cat /etc/hostname; cat /etc/hosts; echo scribble >> /etc/hosts"});
    REQUIRE(expect_exit(r, 0, "the container's shell exits 0"));
    const std::string ip = without_prefix(probe_address(r.out, "eth0"));
    expect_stdout_contains(r, "\nbox\n", "/etc/hostname holds the hostname");
    expect_stdout_contains(r, ip + "\tbox", "/etc/hosts maps the hostname to eth0's address");
    expect_true(host().exec({"cat", config().rootfs + "/etc/hosts"}).out == rootfs_hosts,
                "the shared rootfs's /etc/hosts unchanged", "the container wrote it", &r);
    const Result mounts = host().run({"lab-probe", "mounts"});
    expect_stdout_contains(mounts, "mount=/etc/hosts ", "/etc/hosts is a mount of its own");
    expect_stdout_contains(mounts, "mount=/etc/hostname ", "/etc/hostname is a mount of its own");
}

STEP_TEST(Bridge, ExplainShowsTheLeaseAndTheBridge,
          "--explain narrates the bridge: creating it (RTM_NEWLINK bridge nsrun0), making the veth a port of it "
          "(master nsrun0) and locking the leases (flock).") {
    const Result r = host().run({"--explain", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"(RTM_NEWLINK.*\bbridge\b.*\bnsrun0\b)", "creating the bridge",
                    "`netlink RTM_NEWLINK bridge nsrun0 = 0`");
    expect_narrated(r, R"(\bmaster nsrun0\b)", "making the host's veth end a port of the bridge",
                    "`netlink RTM_NEWLINK veth nsr-1a2b3c4d … master nsrun0 = 0`");
    expect_narrated(r, R"(\bflock\(|F_OFD_SETLKW?|F_SETLKW?)", "locking the lease directory",
                    "`flock(\"/run/nsrun/leases.lock\", LOCK_EX) = 0`");
}

} // namespace
} // namespace lab
