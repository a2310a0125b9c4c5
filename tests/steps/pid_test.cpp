// Step 02 — the PID namespace: COMMAND is PID 1 inside and an ordinary
// process outside; the runtime forwards signals to it and leaves nothing behind.
#include "harness.hpp"

#include <csignal>
#include <sstream>

namespace lab {
namespace {

class Pid : public KernelTest {};


TEST_F(Pid, CommandIsPid1Inside) {
    const Result r = run({"lab-probe", "pid"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "pid"), "1") << r;
    EXPECT_EQ(value(r.out, "ppid"), "0") << "PID 1's parent is outside the namespace" << r;
}

TEST_F(Pid, HostSeesTheContainerUnderAnotherPid) {
    Runtime rt({"sh", "-c", "lab-probe pid; sleep 3"});
    ASSERT_TRUE(rt.wait_for_output("ppid=")) << rt.err();
    const pid_t init = container_init(rt.pid());
    ASSERT_NE(init, 0) << "no descendant of the runtime is PID 1 of a new PID namespace";
    EXPECT_NE(init, 1);
    EXPECT_NE(namespace_of(init, "pid"), namespace_of(::getpid(), "pid"));
    rt.signal(SIGKILL);
}

TEST_F(Pid, SigtermToTheRuntimeReachesTheContainer) {
    // PID 1 only gets signals it handles: the shell's trap is the handler.
    Runtime rt({"sh", "-c", "trap 'echo got-term; exit 42' TERM; echo ready; sleep 30 & wait"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    EXPECT_FALSE(r.timed_out) << "SIGTERM was not forwarded" << r;
    EXPECT_EQ(r.status, 42) << r;
    EXPECT_NE(r.out.find("got-term"), std::string::npos) << r;
}

TEST_F(Pid, SighupAndSigusr1AreForwardedToo) {
    Runtime rt({"sh", "-c",
                "trap 'echo got-usr1' USR1; trap 'echo got-hup; exit 7' HUP; echo ready; "
                "sleep 30 & wait; sleep 30 & wait"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    rt.signal(SIGUSR1);
    ASSERT_TRUE(rt.wait_for_output("got-usr1", 10s)) << "SIGUSR1 was not forwarded: " << rt.err();
    rt.signal(SIGHUP);
    const Result r = rt.finish(15s);
    EXPECT_EQ(r.status, 7) << r;
}

TEST_F(Pid, NoProcessOfTheContainerOutlivesIt) {
    // A background process is killed by the kernel when PID 1 exits.
    Runtime rt({"sh", "-c", "sleep 60 & sleep 60 & echo started; sleep 1"});
    ASSERT_TRUE(rt.wait_for_output("started")) << rt.err();
    const std::vector<pid_t> inside = descendants(rt.pid());
    ASSERT_GE(inside.size(), 3u) << "expected the shell and two sleeps";
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
    for (const pid_t pid : inside) {
        EXPECT_FALSE(process_exists(pid)) << "pid " << pid << " of the container is still alive";
    }
}

TEST_F(Pid, KillingTheRuntimeKillsTheContainer) {
    Runtime rt({"sh", "-c", "echo started; sleep 60"});
    ASSERT_TRUE(rt.wait_for_output("started")) << rt.err();
    const std::vector<pid_t> inside = descendants(rt.pid());
    ASSERT_FALSE(inside.empty());
    rt.signal(SIGKILL);
    (void)rt.finish();
    for (int i = 0; i < 100; ++i) {  // the kernel tears down asynchronously
        bool any = false;
        for (const pid_t pid : inside) any |= process_exists(pid);
        if (!any) break;
        ::usleep(50'000);
    }
    for (const pid_t pid : inside) {
        EXPECT_FALSE(process_exists(pid)) << "pid " << pid << " survived the runtime";
    }
}

TEST_F(Pid, ExplainShowsTheNewPidNamespace) {
    const Result r = run({"--explain", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("CLONE_NEWPID"), std::string::npos) << r;
}

} // namespace
} // namespace lab
