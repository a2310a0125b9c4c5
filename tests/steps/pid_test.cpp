// Step 02 — the PID namespace: COMMAND is PID 1 inside and an ordinary
// process outside; the runtime forwards signals to it and leaves nothing behind.
#include "harness.hpp"

#include <csignal>
#include <sstream>

namespace lab {
namespace {

class Pid : public KernelTest {};

STEP_TEST(Pid, CommandIsPid1Inside,
          "COMMAND runs as PID 1 of a new PID namespace (clone with CLONE_NEWPID), and its parent, outside the "
          "namespace, shows as 0.") {
    const Result r = run({"lab-probe", "pid"});
    REQUIRE(expect_exit(r, 0, "lab-probe pid runs and exits 0 in the container"));
    expect_value(r, "pid", "1", "COMMAND is PID 1 of its own PID namespace");
    expect_value(r, "ppid", "0", "PID 1's parent is outside the namespace, so getppid() is 0");
}

STEP_TEST(Pid, HostSeesTheContainerUnderAnotherPid,
          "From the host, the container's PID 1 is an ordinary process under the runtime, with a host pid other "
          "than 1 and a PID namespace other than the host's.") {
    Runtime rt({"sh", "-c", "lab-probe pid; sleep 3"});
    REQUIRE(expect_output(rt, "ppid=", "the container runs lab-probe pid first"));
    const pid_t init = container_init(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(init != 0, "a process under the runtime that is PID 1 of a new PID namespace (NSpid ends in 1)",
                        "there is none", &running));
    expect_true(init != 1, "the container's PID 1 to have another pid on the host", "it is the host's PID 1",
                &running);
    expect_true(namespace_of(init, "pid") != namespace_of(::getpid(), "pid"),
                "the container's PID 1 in a PID namespace other than the host's",
                "it is in the host's, " + namespace_of(::getpid(), "pid"), &running);
    rt.signal(SIGKILL);
}

STEP_TEST(Pid, SigtermToTheRuntimeReachesTheContainer,
          "SIGTERM sent to the runtime is forwarded to the container's PID 1 (which, as PID 1, only gets signals "
          "it handles): its trap runs and the runtime exits with its status.") {
    // PID 1 only gets signals it handles: the shell's trap is the handler.
    Runtime rt({"sh", "-c", "trap 'echo got-term; exit 42' TERM; echo ready; sleep 30 & wait"});
    REQUIRE(expect_output(rt, "ready", "the container's shell prints ready"));
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    expect_true(!r.timed_out, "the runtime to end within 15 s of SIGTERM (it forwards it to the container)",
                "it was still running: SIGTERM was not forwarded", &r);
    expect_exit(r, 42, "the container's TERM trap exits 42, and the runtime passes that on");
    expect_stdout_contains(r, "got-term", "the container's TERM trap ran");
}

STEP_TEST(Pid, SighupAndSigusr1AreForwardedToo,
          "Not only SIGTERM: SIGUSR1 and SIGHUP sent to the runtime reach the container's PID 1 too.") {
    Runtime rt({"sh", "-c",
                "trap 'echo got-usr1' USR1; trap 'echo got-hup; exit 7' HUP; echo ready; "
                "sleep 30 & wait; sleep 30 & wait"});
    REQUIRE(expect_output(rt, "ready", "the container's shell prints ready"));
    rt.signal(SIGUSR1);
    REQUIRE(expect_output(rt, "got-usr1", "SIGUSR1 sent to the runtime is forwarded to the container's trap", 10s));
    rt.signal(SIGHUP);
    const Result r = rt.finish(15s);
    expect_exit(r, 7, "SIGHUP is forwarded; the container's HUP trap exits 7");
}

STEP_TEST(Pid, NoProcessOfTheContainerOutlivesIt,
          "When the container's PID 1 exits, the kernel kills every other process of its PID namespace: two "
          "background sleeps must not survive it.") {
    // A background process is killed by the kernel when PID 1 exits.
    Runtime rt({"sh", "-c", "sleep 60 & sleep 60 & echo started; sleep 1"});
    REQUIRE(expect_output(rt, "started", "the container's shell starts two background sleeps"));
    const std::vector<pid_t> inside = descendants(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(inside.size() >= 3u, "at least 3 processes under the runtime: the shell and two sleeps",
                        "there are " + std::to_string(inside.size()), &running));
    const Result r = rt.finish();
    expect_exit(r, 0, "the container's shell exits 0");
    const std::string alive = still_alive(inside);
    expect_true(alive.empty(), "every process of the container gone once its PID 1 has exited",
                "these are still alive: " + alive, &r);
}

STEP_TEST(Pid, KillingTheRuntimeKillsTheContainer,
          "If the runtime itself is killed (SIGKILL, no clean-up possible), its container dies with it "
          "(PR_SET_PDEATHSIG): nothing runs on without a supervisor.") {
    Runtime rt({"sh", "-c", "echo started; sleep 60"});
    REQUIRE(expect_output(rt, "started", "the container's shell prints started"));
    const std::vector<pid_t> inside = descendants(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(!inside.empty(), "the container's processes under the runtime", "there are none", &running));
    rt.signal(SIGKILL);
    const Result r = rt.finish();
    for (int i = 0; i < 100; ++i) {  // the kernel tears down asynchronously
        bool any = false;
        for (const pid_t pid : inside) any |= process_exists(pid);
        if (!any) break;
        ::usleep(50'000);
    }
    const std::string alive = still_alive(inside);
    expect_true(alive.empty(), "every process of the container to die with the runtime (SIGKILLed)",
                "these survived it by 5 s: " + alive, &r);
}

STEP_TEST(Pid, ExplainShowsTheNewPidNamespace,
          "--explain narrates the new PID namespace: CLONE_NEWPID in the clone (or unshare) call.") {
    const Result r = run({"--explain", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWPID)", "the new PID namespace",
                    "`clone(CLONE_NEWUTS|CLONE_NEWPID|SIGCHLD) = 4242` or `unshare(CLONE_NEWPID) = 0`");
}

} // namespace
} // namespace lab
