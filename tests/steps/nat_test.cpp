// Step 09 — port publishing and NAT: `-p HOST_PORT:CONTAINER_PORT` makes a
// server in the container reachable at the host's loopback and at the host's
// address from another machine (the fixture's outside namespace); containers
// reach the outside masqueraded behind the host's address; conflicts fail
// with 125 before the container starts; the container's rules go when it
// does, and nothing else in the ruleset is touched.  Everything runs in a
// throwaway host linked to an outside namespace (netfixture.hpp).
#include "netfixture.hpp"

#include <csignal>

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
        EXPECT_TRUE(c->wait_for_output("default_via=")) << c->out() << c->err();
        return c;
    }
    static Result stop(std::unique_ptr<Runtime>& c) {
        c->signal(SIGTERM);
        return c->finish();
    }
    std::string ruleset() { return host().exec({"nft", "list", "ruleset"}).out; }
};

TEST_F(Nat, WebServerIsReachedAtLoopbackFromTheHost) {
    auto c = start_web_server("8080:80");
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8080", "/"});
    EXPECT_EQ(get.status, 0) << get;
    EXPECT_EQ(value(get.out, "status"), "200") << get;
    EXPECT_NE(value(get.out, "body").find("nsrun"), std::string::npos) << get;
    EXPECT_EQ(stop(c).status, 0);
}

TEST_F(Nat, WebServerIsReachedAtTheHostsAddressFromOutside) {
    auto c = start_web_server("8080:80");
    const Result get = outside().exec({"lab-probe", "http-get", NetLab::host_address, "8080", "/"});
    EXPECT_EQ(get.status, 0) << get;
    EXPECT_EQ(value(get.out, "status"), "200") << get;
    EXPECT_EQ(stop(c).status, 0);
}

TEST_F(Nat, OutboundTrafficIsMasqueradedBehindTheHost) {
    auto server = outside().spawn({"lab-probe", "listen", "7200"});
    ASSERT_TRUE(server->wait_for_output("listening=7200")) << server->err();
    const Result r = host().run({"lab-probe", "connect", NetLab::outside_address, "7200", "out"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "reply"), "pong out") << r;
    const Result s = server->finish();
    EXPECT_TRUE(value(s.out, "peer").starts_with(std::string(NetLab::host_address) + ":"))
        << "the outside should see the host's address, not the container's" << s;
}

TEST_F(Nat, UdpIsPublishedToo) {
    auto c = host().start({"-p", "5353:53/udp", "sh", "-c", "lab-probe net; exec lab-probe udp-echo 53"});
    ASSERT_TRUE(c->wait_for_output("listening=53")) << c->out() << c->err();
    const Result r = outside().exec({"lab-probe", "udp-send", NetLab::host_address, "5353", "dns?"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "reply"), "pong dns?") << r;
    c->finish();
}

TEST_F(Nat, AHostIpLimitsWhereThePortIsPublished) {
    auto c = start_web_server("127.0.0.1:8081:80");
    const Result local = host().exec({"lab-probe", "http-get", "127.0.0.1", "8081", "/"});
    EXPECT_EQ(value(local.out, "status"), "200") << local;
    const Result remote = outside().exec({"lab-probe", "http-get", NetLab::host_address, "8081", "/"});
    EXPECT_NE(remote.status, 0) << "published on 127.0.0.1 only, yet reached from outside" << remote;
    EXPECT_EQ(stop(c).status, 0);
}

TEST_F(Nat, APortPublishedByAnotherContainerIsRefusedWith125) {
    auto first = start_web_server("8082:80");
    const Result second = host().run({"-p", "8082:81", "lab-probe", "pid"});
    EXPECT_EQ(second.status, 125) << second;
    EXPECT_NE(second.err.find("8082"), std::string::npos) << "the message should name the port" << second;
    EXPECT_EQ(value(second.out, "pid"), "") << "the container must not start" << second;
    // The first one is unharmed.
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8082", "/"});
    EXPECT_EQ(value(get.out, "status"), "200") << get;
    EXPECT_EQ(stop(first).status, 0);
}

TEST_F(Nat, APortBoundByAHostProcessIsRefusedWith125) {
    auto listener = host().spawn({"lab-probe", "listen", "8083"});
    ASSERT_TRUE(listener->wait_for_output("listening=8083"));
    const Result r = host().run({"-p", "8083:80", "lab-probe", "pid"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("8083"), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "pid"), "") << r;
    listener->signal(SIGKILL);
    listener->finish();
}

TEST_F(Nat, TheContainersRulesGoWhenItDoes) {
    auto c = start_web_server("8084:80");
    const std::string ip = without_prefix(probe_address(c->out(), "eth0"));
    const std::string during = ruleset();
    EXPECT_NE(during.find("8084"), std::string::npos) << during;
    EXPECT_NE(during.find(ip), std::string::npos) << during;
    EXPECT_EQ(stop(c).status, 0);
    const std::string after = ruleset();
    EXPECT_EQ(after.find("8084"), std::string::npos) << "a rule of the container is left:\n" << after;
    EXPECT_EQ(after.find(ip + " "), std::string::npos) << "a rule of the container is left:\n" << after;
    // Failure paths too: command not found, and a container that exits with an error.
    EXPECT_EQ(host().run({"-p", "8085:80", "/nonexistent"}).status, 127);
    EXPECT_EQ(host().run({"-p", "8086:80", "false"}).status, 1);
    const std::string later = ruleset();
    EXPECT_EQ(later.find("8085"), std::string::npos) << later;
    EXPECT_EQ(later.find("8086"), std::string::npos) << later;
}

TEST_F(Nat, AKilledRuntimesPortCanBePublishedAgain) {
    auto killed = start_web_server("8090:80");
    killed->signal(SIGKILL); // the runtime itself: its entries stay behind
    killed->finish();
    auto c = start_web_server("8090:80");
    const Result get = host().exec({"lab-probe", "http-get", "127.0.0.1", "8090", "/"});
    EXPECT_EQ(value(get.out, "status"), "200") << get;
    EXPECT_EQ(stop(c).status, 0);
    EXPECT_EQ(ruleset().find("8090"), std::string::npos) << ruleset();
}

TEST_F(Nat, NothingElseInTheRulesetIsTouched) {
    ASSERT_EQ(host().exec({"nft", "add table inet lab_other; add chain inet lab_other keep { type filter hook "
                                   "input priority 0; policy accept; }; add rule inet lab_other keep tcp dport 9999 "
                                   "counter accept"})
                  .status,
              0);
    const std::string before = host().exec({"nft", "list", "table", "inet", "lab_other"}).out;
    auto c = start_web_server("8087:80");
    EXPECT_EQ(stop(c).status, 0);
    EXPECT_EQ(host().exec({"nft", "list", "table", "inet", "lab_other"}).out, before);
}

TEST_F(Nat, ForwardingIsEnabledInTheHost) {
    EXPECT_EQ(host().run({"-p", "8088:80", "true"}).status, 0);
    EXPECT_EQ(host().exec({"cat", "/proc/sys/net/ipv4/ip_forward"}).out, "1\n");
}

TEST_F(Nat, MalformedPublishIsRefusedWith125) {
    for (const std::string bad : {"80", "70000:80", "8080:0", "8080:80/sctp", "999.1.1.1:8080:80"}) {
        const Result r = host().run({"-p", bad, "true"});
        EXPECT_EQ(r.status, 125) << bad << r;
        EXPECT_NE(r.err.find("publish"), std::string::npos) << bad << r;
    }
}

TEST_F(Nat, ExplainShowsTheExactRules) {
    const Result r = host().run({"--explain", "-p", "8089:80", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("nft: "), std::string::npos) << r;
    EXPECT_NE(r.err.find("8089"), std::string::npos) << r;
    EXPECT_NE(r.err.find("masquerade"), std::string::npos) << r;
}

} // namespace
} // namespace lab
