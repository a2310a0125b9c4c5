// Step 01 — the UTS namespace, plus the CLI contract every step keeps:
// exit statuses, bad input, --help, --explain.
#include "harness.hpp"

#include <csignal>
#include <unistd.h>

namespace lab {
namespace {

class Uts : public KernelTest {};

TEST_F(Uts, HostnameInsideIsTheRequestedOne) {
    const std::string before = host_hostname();
    const std::string name = unique("box");
    const Result r = run({"--hostname", name, "lab-probe", "hostname"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "hostname"), name) << r;
    EXPECT_EQ(host_hostname(), before) << "the host's hostname changed";
}

TEST_F(Uts, DefaultHostnameIsContainer) {
    const Result r = run({"lab-probe", "hostname"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "hostname"), "container") << r;
}

TEST_F(Uts, HostKeepsItsNameWhileTheContainerRuns) {
    const std::string before = host_hostname();
    const std::string name = unique("live");
    Runtime rt({"--hostname", name, "sh", "-c", "lab-probe hostname; sleep 2"});
    ASSERT_TRUE(rt.wait_for_output("hostname=")) << rt.err();
    EXPECT_EQ(host_hostname(), before);
    // The container's process lives in a UTS namespace other than ours.
    bool found_other_uts = false;
    for (const pid_t pid : descendants(rt.pid())) {
        const std::string ns = namespace_of(pid, "uts");
        found_other_uts |= !ns.empty() && ns != namespace_of(::getpid(), "uts");
    }
    EXPECT_TRUE(found_other_uts) << "no process of the container is in a new UTS namespace";
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "hostname"), name) << r;
}

TEST_F(Uts, LongestHostnameIsAccepted) {
    const std::string name(64, 'h');
    const Result r = run({"--hostname", name, "lab-probe", "hostname"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "hostname"), name);
}

TEST_F(Uts, EmptyHostnameIsRefusedWith125) {
    const Result r = run({"--hostname", "", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("hostname"), std::string::npos) << "the message should name the flag" << r;
}

TEST_F(Uts, TooLongHostnameIsRefusedWith125) {
    const Result r = run({"--hostname", std::string(65, 'h'), "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("hostname"), std::string::npos) << r;
}

TEST_F(Uts, ExitStatusIsTheCommands) {
    EXPECT_EQ(run({"true"}).status, 0);
    const Result r = run({"sh", "-c", "exit 3"});
    EXPECT_EQ(r.status, 3) << r;
}

TEST_F(Uts, CommandNotFoundIs127) {
    const std::string name = unique("no-such-command");
    const Result r = run({name});
    EXPECT_EQ(r.status, 127) << r;
    EXPECT_NE(r.err.find(name), std::string::npos) << "the message should name the command" << r;
}

TEST_F(Uts, CommandNotExecutableIs126) {
    // /etc/passwd exists on the host and in the lab rootfs, and is not executable.
    const Result r = run({"/etc/passwd"});
    EXPECT_EQ(r.status, 126) << r;
    EXPECT_FALSE(r.err.empty()) << r;
}

TEST_F(Uts, KilledBySignalIs128PlusN) {
    // Killed from outside: from step 02 on COMMAND is PID 1 of its namespace,
    // and the kernel ignores a SIGKILL that PID 1 sends itself.
    Runtime rt({"sh", "-c", "echo ready; exec sleep 30"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    const std::vector<pid_t> children = children_of(rt.pid());
    ASSERT_EQ(children.size(), 1u) << "expected the runtime to have one child, the container";
    ASSERT_EQ(::kill(children.front(), SIGKILL), 0);
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 128 + SIGKILL) << r;
}

TEST_F(Uts, UnknownFlagIs125WithAMessage) {
    const Result r = run({"--no-such-flag", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r;
}

TEST_F(Uts, MissingCommandIs125) {
    const Result r = run(std::vector<std::string>{});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_FALSE(r.err.empty()) << r;
}

TEST_F(Uts, HelpDescribesTheOptions) {
    const Result r = run({"--help"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find("--hostname"), std::string::npos) << r;
    EXPECT_NE(r.out.find("--explain"), std::string::npos) << r;
}

TEST_F(Uts, ExplainNarratesTheNamespaceAndTheHostname) {
    const Result r = run({"--explain", "--hostname", "told", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("clone("), std::string::npos) << r;
    EXPECT_NE(r.err.find("CLONE_NEWUTS"), std::string::npos) << r;
    EXPECT_NE(r.err.find("sethostname(\"told\")"), std::string::npos) << r;
}

TEST_F(Uts, UnprivilegedUserGetsIsolationOrAClear125) {
    // Before rootless mode (step 06) a non-root caller must get a clear
    // message and 125 — never a crash or a half-made container.  From step 06
    // on it gets a working container instead; either way the host is untouched.
    const std::string before = host_hostname();
    const Result r = run(Launch{{"--hostname", "nobodybox", "lab-probe", "hostname"}, {{65534, 65534}}});
    if (r.status == 125) {
        EXPECT_NE(r.err.find("root"), std::string::npos) << "the message should say root is needed" << r;
    } else {
        EXPECT_EQ(r.status, 0) << r;
        EXPECT_EQ(value(r.out, "hostname"), "nobodybox") << r;
    }
    EXPECT_EQ(host_hostname(), before);
}

} // namespace
} // namespace lab
