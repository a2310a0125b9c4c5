// Step 03 — the mount namespace: a private mount table and a fresh /proc.
#include "harness.hpp"

#include <csignal>
#include <sys/mount.h>
#include <unistd.h>

namespace lab {
namespace {

class Mount : public KernelTest {};

STEP_TEST(Mount, ProcShowsOnlyTheContainersProcesses,
          "/proc inside is a procfs of the container's PID namespace: it lists PID 1 first and none of the "
          "host's processes.") {
    const Result r = run({"lab-probe", "pids"});
    REQUIRE(expect_exit(r, 0, "lab-probe pids runs and exits 0 in the container"));
    const auto pids = values(r.out, "pid");
    REQUIRE(expect_true(!pids.empty(), "lab-probe to list the processes in /proc (pid= lines)", "it lists none", &r));
    expect_true(pids.front() == "1", "/proc to list PID 1 first (the container's own PID 1)",
                "it starts with pid=" + pids.front() + ": /proc is the host's", &r);
    expect_true(pids.size() <= 2u, "at most 2 processes in /proc: the container's PID 1 and lab-probe",
                std::to_string(pids.size()) + " are listed: the host's processes are visible", &r);
}

STEP_TEST(Mount, AMountInsideNeverAppearsOnTheHost,
          "A mount made inside the container (a tmpfs) is visible inside and never on the host: the container "
          "has its own mount namespace, with propagation to the host cut (MS_PRIVATE or MS_SLAVE).") {
    const std::string tag = unique("nsrun-tag");
    const std::string dir = "/tmp/" + tag;
    Runtime rt({"sh", "-c",
                "trap 'exit 0' TERM; lab-probe mount-tmpfs " + dir + " " + tag +
                    " && lab-probe mounts && echo ready && sleep 30 & wait"});
    const bool ready = expect_output(rt, "ready", "the container mounts a tmpfs and prints ready");
    if (ready) {
        const Result running = rt.record();
        expect_stdout_contains(running, tag, "the container's own mount table shows its tmpfs");
        expect_true(host_mountinfo().find(tag) == std::string::npos,
                    "the container's tmpfs (" + tag + ") not to appear in the host's mount table",
                    "it does: the mount leaked to the host", &running);
        rt.signal(SIGTERM);
        const Result r = rt.finish();
        expect_exit(r, 0, "the container's TERM trap exits 0");
    }
    if (host_mountinfo().find(tag) != std::string::npos) {
        ::umount2(dir.c_str(), MNT_DETACH); // a runtime without a mount namespace leaked it: clean up
    }
    ::rmdir(dir.c_str()); // without a rootfs (step 03) the directory is the host's
}

STEP_TEST(Mount, ProcInsideIsANewProcfs,
          "The runtime mounts a fresh procfs on /proc inside the container.") {
    const Result r = run({"lab-probe", "mounts"});
    REQUIRE(expect_exit(r, 0, "lab-probe mounts runs and exits 0 in the container"));
    bool proc_mounted = false;
    for (const auto& m : values(r.out, "mount")) {
        proc_mounted |= m.starts_with("/proc proc ");
    }
    expect_true(proc_mounted, "a line mount=/proc proc … (a procfs mounted on /proc)", "there is none", &r);
}

STEP_TEST(Mount, HostMountTableIsUnchangedAfterwards,
          "After a container has run, the host's mount table is exactly what it was before.") {
    const std::string before = host_mountinfo();
    const Result r = run({"sh", "-c", "lab-probe mounts >/dev/null"});
    expect_exit(r, 0, "the container's shell exits 0");
    expect_true(host_mountinfo() == before, "the host's mount table (/proc/self/mountinfo) to be unchanged",
                "it changed while the container ran", &r);
}

STEP_TEST(Mount, ExplainShowsTheMounts,
          "--explain narrates the mount namespace: CLONE_NEWNS, cutting propagation to the host (MS_PRIVATE or "
          "MS_SLAVE on /) and mounting procfs on /proc.") {
    const Result r = run({"--explain", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWNS)", "the new mount namespace",
                    "`clone(…|CLONE_NEWNS|SIGCHLD) = 4242` or `unshare(CLONE_NEWNS) = 0`");
    expect_narrated(r, R"(\bmount\(.*MS_(PRIVATE|SLAVE))", "making the mounts private (no propagation to the host)",
                    "`mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE) = 0` (MS_SLAVE too)");
    expect_narrated(r, R"(\bmount\("[^"]*", "/proc", "proc")", "mounting a new procfs on /proc",
                    "`mount(\"proc\", \"/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC) = 0`");
}

} // namespace
} // namespace lab
