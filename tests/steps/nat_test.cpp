// Step 09 — port publishing and NAT: `-p HOST_PORT:CONTAINER_PORT` makes a
// server in the container reachable at the host's loopback and at the host's
// address from another machine (the fixture's outside namespace); containers
// reach the outside masqueraded behind the host's address; conflicts fail
// with 125 before the container starts; the container's rules go when it
// does, and nothing else in the ruleset is touched.  Everything runs in a
// throwaway host linked to an outside namespace (netfixture.hpp).
#include "netfixture.hpp"

#include <csignal>
#include <random>
#include <unistd.h>

namespace lab {
namespace {

class Nat : public NetTest {
protected:
    [[nodiscard]] bool wants_outside() const override { return true; }

    /// busybox httpd serving the rootfs's /srv/www on port 80, published as
    /// `publish`; stays until SIGTERM.  Prints its network first.
    std::unique_ptr<Runtime> start_web_server(const std::string& publish) {
        auto c = host().start({"-p", publish, "sh", "-c",
                               "trap 'exit 0' TERM; httpd -f -p 80 -h /srv/www & lab-probe net; wait"});
        expect_output(*c, "default_via=", "the web server container prints its network");
        return c;
    }
    static Result stop(std::unique_ptr<Runtime>& c) {
        c->signal(SIGTERM);
        return c->finish();
    }
    std::string ruleset() { return host().exec({"nft", "list", "ruleset"}).out; }
};

STEP_TEST(Nat, WebServerIsReachedAtLoopbackFromTheHost,
          "-p 8080:80 publishes the container's web server on the host: an HTTP GET of 127.0.0.1:8080 on the "
          "host returns its page.") {
    auto c = start_web_server("8080:80");
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8080", "/"});
    expect_exit(get, 0, "the host's GET of 127.0.0.1:8080 gets an answer");
    expect_value(get, "status", "200", "the container's web server answers 200");
    expect_true(value(get.out, "body").find("nsrun") != std::string::npos, "the lab rootfs's page (it names nsrun)",
                "the body is: " + value(get.out, "body"), &get);
    expect_exit(stop(c), 0, "the web server container stops on SIGTERM");
}

STEP_TEST(Nat, WebServerIsReachedAtTheHostsAddressFromOutside,
          "-p 8080:80 publishes on the host's own address too: another machine (the outside namespace) gets the "
          "page at the host's address, port 8080.") {
    auto c = start_web_server("8080:80");
    const Result get = outside().exec({"lab-probe", "http-get", NetLab::host_address, "8080", "/"});
    expect_exit(get, 0, "the outside machine's GET gets an answer");
    expect_value(get, "status", "200", "the container's web server answers 200");
    expect_exit(stop(c), 0, "the web server container stops on SIGTERM");
}

STEP_TEST(Nat, OutboundTrafficIsMasqueradedBehindTheHost,
          "A container's connections to another machine are masqueraded: the outside sees the host's address, "
          "not the container's.") {
    auto server = outside().spawn({"lab-probe", "listen", "7200"});
    REQUIRE(expect_output(*server, "listening=7200", "the outside machine's server listens on port 7200"));
    const Result r = host().run({"lab-probe", "connect", NetLab::outside_address, "7200", "out"});
    expect_exit(r, 0, "the container connects to the outside machine");
    expect_value(r, "reply", "pong out", "the outside server answers");
    const Result s = server->finish();
    expect_true(value(s.out, "peer").starts_with(std::string(NetLab::host_address) + ":"),
                std::string("the outside to see the host's address ") + NetLab::host_address + " as the peer",
                "the peer is " + value(s.out, "peer"), &r);
}

STEP_TEST(Nat, UdpIsPublishedToo,
          "-p 5353:53/udp publishes a UDP port: a datagram from outside to the host's port 5353 reaches the "
          "container's port 53 and the reply comes back.") {
    auto c = host().start({"-p", "5353:53/udp", "sh", "-c", "lab-probe net; exec lab-probe udp-echo 53"});
    REQUIRE(expect_output(*c, "listening=53", "the container's UDP echo listens on port 53"));
    const Result r = outside().exec({"lab-probe", "udp-send", NetLab::host_address, "5353", "dns?"});
    expect_exit(r, 0, "the outside machine's datagram gets a reply");
    expect_value(r, "reply", "pong dns?", "the container's echo answers");
    c->finish();
}

STEP_TEST(Nat, AHostIpLimitsWhereThePortIsPublished,
          "-p 127.0.0.1:8081:80 publishes on the host's loopback only: reachable from the host, not from "
          "outside.") {
    auto c = start_web_server("127.0.0.1:8081:80");
    const Result local = host().exec({"lab-probe", "http-get", "127.0.0.1", "8081", "/"});
    expect_value(local, "status", "200", "published on 127.0.0.1, so the host reaches it there");
    const Result remote = outside().exec({"lab-probe", "http-get", NetLab::host_address, "8081", "/"});
    expect_true(remote.status != 0, "the outside machine not to reach port 8081 (published on 127.0.0.1 only)",
                "it was reached from outside", &remote);
    expect_exit(stop(c), 0, "the web server container stops on SIGTERM");
}

STEP_TEST(Nat, APortPublishedByAnotherContainerIsRefusedWith125,
          "Publishing a host port another container already publishes is refused with 125 before the "
          "container starts, naming the port; the first container is unharmed.") {
    auto first = start_web_server("8082:80");
    const Result second = host().run({"-p", "8082:81", "lab-probe", "pid"});
    expect_exit(second, 125, "port 8082 is already published by another container");
    expect_stderr_contains(second, "8082", "the message names the port");
    expect_value(second, "pid", "", "the container must not start");
    // The first one is unharmed.
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8082", "/"});
    expect_value(get, "status", "200", "the first container still serves on 8082");
    expect_exit(stop(first), 0, "the web server container stops on SIGTERM");
}

STEP_TEST(Nat, APortBoundByAHostProcessIsRefusedWith125,
          "Publishing a host port a host process already listens on is refused with 125 before the container "
          "starts, naming the port.") {
    auto listener = host().spawn({"lab-probe", "listen", "8083"});
    REQUIRE(expect_output(*listener, "listening=8083", "a host process listens on port 8083"));
    const Result r = host().run({"-p", "8083:80", "lab-probe", "pid"});
    expect_exit(r, 125, "port 8083 is taken by a host process");
    expect_stderr_contains(r, "8083", "the message names the port");
    expect_value(r, "pid", "", "the container must not start");
    listener->signal(SIGKILL);
    listener->finish();
}

STEP_TEST(Nat, TheContainersRulesGoWhenItDoes,
          "The nftables rules of a container (its port, its address) are removed when it ends, on failure paths "
          "too (command not found, exit 1).") {
    auto c = start_web_server("8084:80");
    const std::string ip = without_prefix(probe_address(c->out(), "eth0"));
    const std::string during = ruleset();
    const Result running = c->record();
    expect_true(during.find("8084") != std::string::npos, "a rule for port 8084 in the ruleset while it runs",
                "there is none:\n" + during, &running);
    expect_true(during.find(ip) != std::string::npos, "a rule for the container's address " + ip + " while it runs",
                "there is none:\n" + during, &running);
    const Result stopped = stop(c);
    expect_exit(stopped, 0, "the web server container stops on SIGTERM");
    const std::string after = ruleset();
    expect_true(after.find("8084") == std::string::npos, "no rule for port 8084 after the container ended",
                "one is left:\n" + after, &stopped);
    expect_true(after.find(ip + " ") == std::string::npos, "no rule for " + ip + " after the container ended",
                "one is left:\n" + after, &stopped);
    // Failure paths too: command not found, and a container that exits with an error.
    expect_exit(host().run({"-p", "8085:80", "/nonexistent"}), 127, "/nonexistent is not found");
    expect_exit(host().run({"-p", "8086:80", "false"}), 1, "`false` exits 1");
    const std::string later = ruleset();
    expect_true(later.find("8085") == std::string::npos, "no rule for port 8085 after a command not found",
                "one is left:\n" + later);
    expect_true(later.find("8086") == std::string::npos, "no rule for port 8086 after a container exiting 1",
                "one is left:\n" + later);
}

STEP_TEST(Nat, AKilledRuntimesPortCanBePublishedAgain,
          "A runtime killed by SIGKILL leaves its port rules behind; the next container publishing that port "
          "takes it over, works, and its rules go when it does.") {
    auto killed = start_web_server("8090:80");
    killed->signal(SIGKILL); // the runtime itself: its entries stay behind
    killed->finish();
    auto c = start_web_server("8090:80");
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8090", "/"});
    expect_value(get, "status", "200", "the new container serves on port 8090");
    const Result stopped = stop(c);
    expect_exit(stopped, 0, "the web server container stops on SIGTERM");
    const std::string after = ruleset();
    expect_true(after.find("8090") == std::string::npos, "no rule for port 8090 afterwards", "one is left:\n" + after,
                &stopped);
}

STEP_TEST(Nat, RuntimesKilledDuringSetupLeaveNoPortMappingOrLease,
          "30 runtimes publishing -p 180NN:80 are killed by SIGKILL at a random moment of their first 40 ms; one "
          "normal run afterwards leaves the host's nft table and state directory exactly as one normal run before "
          "did: no stale port mapping (it would send the port's traffic to the next container on that address), "
          "no lease or record, no veth end left.") {
    const auto snapshot = [&] {
        return host().sh("nft list table ip nsrun; find /run/nsrun | sort; ip -o link | cut -d: -f2 | sort").out;
    };
    REQUIRE(expect_exit(host().run({"true"}), 0, "a first normal run makes the bridge, the nft table and the state"));
    const std::string before = snapshot();
    std::mt19937 random{std::random_device{}()};
    for (int i = 0; i < 30; ++i) {
        auto killed = host().start({"-p", std::to_string(18000 + i) + ":80", "sleep", "5"});
        ::usleep(static_cast<useconds_t>(random() % 40'000));
        killed->signal(SIGKILL); // the runtime itself, wherever it is in its setup: no clean-up code runs
        killed->finish();
    }
    const Result next = host().run({"true"});
    REQUIRE(expect_exit(next, 0, "a normal run after the killed ones"));
    // A dead runtime's records are reclaimed by the next run; allow a late one a moment.
    std::string after = snapshot();
    for (int i = 0; i < 50 && after != before; ++i) {
        ::usleep(100 * 1000);
        after = snapshot();
    }
    expect_true(after == before, "nft table, state directory and links as after one normal run:\n" + before,
                "after the killed runtimes and one normal run:\n" + after, &next);
}

STEP_TEST(Nat, NothingElseInTheRulesetIsTouched,
          "The runtime touches only its own nftables table: another table of the host is exactly the same "
          "after a container has run.") {
    REQUIRE(expect_exit(host().exec({"nft", "add table inet lab_other; add chain inet lab_other keep { type filter "
                                            "hook input priority 0; policy accept; }; add rule inet lab_other keep "
                                            "tcp dport 9999 counter accept"}),
                        0, "the test adds a table of its own to the (throwaway) host"));
    const std::string before = host().exec({"nft", "list", "table", "inet", "lab_other"}).out;
    auto c = start_web_server("8087:80");
    const Result stopped = stop(c);
    expect_exit(stopped, 0, "the web server container stops on SIGTERM");
    const std::string after = host().exec({"nft", "list", "table", "inet", "lab_other"}).out;
    expect_true(after == before, "the table inet lab_other unchanged:\n" + before, "it is now:\n" + after, &stopped);
}

STEP_TEST(Nat, ForwardingIsEnabledInTheHost,
          "Publishing a port turns on IPv4 forwarding in the host (net.ipv4.ip_forward=1), which routing to the "
          "containers needs.") {
    const Result r = host().run({"-p", "8088:80", "true"});
    expect_exit(r, 0, "the container runs");
    const std::string forward = host().exec({"cat", "/proc/sys/net/ipv4/ip_forward"}).out;
    expect_true(forward == "1\n", "net.ipv4.ip_forward = 1 in the host", "it is " + forward, &r);
}

STEP_TEST(Nat, PublishWithoutABridgeIsRefusedWithAHintForThatMode,
          "-p needs --network bridge: with --network none or host it is refused with 125, and the hint speaks of "
          "the mode given, not of another one.") {
    const Result none = host().run({"-p", "8091:80", "--network", "none", "true"});
    expect_exit(none, 125, "-p with --network none");
    expect_stderr_contains(none, "--network none", "the hint speaks of --network none");
    expect_stderr_lacks(none, "--network host", "the hint does not speak of another mode");
    const Result shared = host().run({"-p", "8091:80", "--network", "host", "true"});
    expect_exit(shared, 125, "-p with --network host");
    expect_stderr_contains(shared, "--network host", "the hint speaks of --network host");
}

STEP_TEST(Nat, MalformedPublishIsRefusedWith125,
          "Malformed -p values (no host port, port out of range, port 0, unknown protocol, bad address) are "
          "refused with 125, naming publish.") {
    for (const std::string bad : {"80", "70000:80", "8080:0", "8080:80/sctp", "999.1.1.1:8080:80"}) {
        const Result r = host().run({"-p", bad, "true"});
        expect_exit(r, 125, "-p " + bad + " is not a valid publish");
        expect_stderr_contains(r, "publish", "the message names the option (--publish)");
    }
}

STEP_TEST(Nat, ExplainShowsTheExactRules,
          "--explain shows the nftables rules the runtime adds: the published port's DNAT and the masquerade.") {
    const Result r = host().run({"--explain", "-p", "8089:80", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"(\bnft\b.*\b8089\b)", "the rule publishing port 8089",
                    "`nft: add element ip nsrun publish_any { tcp . 8089 : 10.203.0.2 . 80 }`");
    expect_narrated(r, R"(\bnft\b.*\bmasquerade\b)", "the masquerade rule",
                    "`nft: add rule ip nsrun postrouting ip saddr 10.203.0.0/16 … masquerade`");
}

} // namespace
} // namespace lab
