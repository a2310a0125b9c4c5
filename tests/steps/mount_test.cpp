// Step 03 — the mount namespace: a private mount table and a fresh /proc.
#include "harness.hpp"

#include <csignal>
#include <sys/mount.h>
#include <unistd.h>

namespace lab {
namespace {

class Mount : public KernelTest {};

TEST_F(Mount, ProcShowsOnlyTheContainersProcesses) {
    const Result r = run({"lab-probe", "pids"});
    ASSERT_EQ(r.status, 0) << r;
    const auto pids = values(r.out, "pid");
    ASSERT_FALSE(pids.empty()) << r;
    EXPECT_EQ(pids.front(), "1") << r;
    EXPECT_LE(pids.size(), 2u) << "the host's processes are visible in /proc" << r;
}

TEST_F(Mount, AMountInsideNeverAppearsOnTheHost) {
    const std::string tag = unique("nsrun-tag");
    const std::string dir = "/tmp/" + tag;
    Runtime rt({"sh", "-c",
                "trap 'exit 0' TERM; lab-probe mount-tmpfs " + dir + " " + tag +
                    " && lab-probe mounts && echo ready && sleep 30 & wait"});
    ASSERT_TRUE(rt.wait_for_output("ready")) << rt.err();
    EXPECT_NE(rt.out().find(tag), std::string::npos) << "the mount is not visible inside";
    EXPECT_EQ(host_mountinfo().find(tag), std::string::npos) << "the container's mount leaked to the host";
    rt.signal(SIGTERM);
    const Result r = rt.finish();
    EXPECT_EQ(r.status, 0) << r;
    if (host_mountinfo().find(tag) != std::string::npos) {
        ::umount2(dir.c_str(), MNT_DETACH); // a runtime without a mount namespace leaked it: clean up
    }
    ::rmdir(dir.c_str()); // without a rootfs (step 03) the directory is the host's
}

TEST_F(Mount, ProcInsideIsANewProcfs) {
    const Result r = run({"lab-probe", "mounts"});
    ASSERT_EQ(r.status, 0) << r;
    bool proc_mounted = false;
    for (const auto& m : values(r.out, "mount")) {
        proc_mounted |= m.starts_with("/proc proc ");
    }
    EXPECT_TRUE(proc_mounted) << r;
}

TEST_F(Mount, HostMountTableIsUnchangedAfterwards) {
    const std::string before = host_mountinfo();
    const Result r = run({"sh", "-c", "lab-probe mounts >/dev/null"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(host_mountinfo(), before);
}

TEST_F(Mount, ExplainShowsTheMounts) {
    const Result r = run({"--explain", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("CLONE_NEWNS"), std::string::npos) << r;
    EXPECT_NE(r.err.find("MS_PRIVATE"), std::string::npos) << r;
    EXPECT_NE(r.err.find("mount(\"proc\", \"/proc\", \"proc\""), std::string::npos) << r;
}

} // namespace
} // namespace lab
