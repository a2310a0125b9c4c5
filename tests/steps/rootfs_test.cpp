// Step 04 — the root filesystem: pivot_root into the lab rootfs, the host's
// tree unreachable, and the standard /proc, /sys, /dev and /tmp inside.
#include "harness.hpp"

#include <fstream>
#include <unistd.h>

namespace lab {
namespace {

class Rootfs : public KernelTest {};

/// The current directory, absolute: a host path the container must not reach.
std::string cwd() {
    char buf[4096] = {};
    return ::getcwd(buf, sizeof buf) ? buf : "/";
}

TEST_F(Rootfs, HostFilesAreUnreachable) {
    const std::string marker = cwd() + "/" + unique("nsrun-marker");
    std::ofstream(marker) << "host only\n";
    const Result r = run({"lab-probe", "stat", marker});
    ::unlink(marker.c_str());
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "exists"), "0") << "the host's " << marker << " is visible inside" << r;
}

TEST_F(Rootfs, RootIsTheLabRootfs) {
    // The lab rootfs has a web page the host does not have at that path.
    const Result r = run({"lab-probe", "stat", "/srv/www/index.html"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "exists"), "1") << r;
    const Result os = run({"cat", "/etc/os-release"});
    EXPECT_NE(os.out.find("nsrun"), std::string::npos) << os;
}

TEST_F(Rootfs, OldRootIsDetached) {
    const Result r = run({"lab-probe", "mounts"});
    ASSERT_EQ(r.status, 0) << r;
    const auto mounts = values(r.out, "mount");
    ASSERT_FALSE(mounts.empty()) << r;
    for (const auto& m : mounts) {
        const std::string where = m.substr(0, m.find(' '));
        const bool expected = where == "/" || where.starts_with("/proc") || where.starts_with("/sys") ||
                              where.starts_with("/dev") || where.starts_with("/tmp") ||
                              where.starts_with("/etc/") || where.starts_with("/run");
        EXPECT_TRUE(expected) << "a mount of the host is still reachable inside: " << m;
    }
    const Result old = run({"lab-probe", "stat", "/.oldroot"});
    EXPECT_EQ(value(old.out, "exists"), "0") << old;
}

TEST_F(Rootfs, SystemDirectoriesAreMounted) {
    const Result r = run({"lab-probe", "mounts"});
    ASSERT_EQ(r.status, 0) << r;
    std::map<std::string, std::string> by_point;
    for (const auto& m : values(r.out, "mount")) {
        by_point[m.substr(0, m.find(' '))] = m;
    }
    EXPECT_TRUE(by_point["/proc"].starts_with("/proc proc ")) << r;
    EXPECT_TRUE(by_point["/sys"].starts_with("/sys sysfs ")) << r;
    EXPECT_NE(by_point["/sys"].find(" ro"), std::string::npos) << "/sys must be read-only" << r;
    EXPECT_TRUE(by_point["/dev"].starts_with("/dev tmpfs ")) << r;
    EXPECT_TRUE(by_point["/dev/pts"].starts_with("/dev/pts devpts ")) << r;
    EXPECT_TRUE(by_point["/dev/shm"].starts_with("/dev/shm tmpfs ")) << r;
    EXPECT_TRUE(by_point["/tmp"].starts_with("/tmp tmpfs ")) << r;
}

TEST_F(Rootfs, SysIsReadOnly) {
    const Result r = run({"lab-probe", "writable", "/sys"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "writable"), "0") << r;
}

TEST_F(Rootfs, StandardDeviceNodesExist) {
    const std::map<std::string, std::string> devices = {
        {"/dev/null", "1:3"}, {"/dev/zero", "1:5"},    {"/dev/full", "1:7"},
        {"/dev/random", "1:8"}, {"/dev/urandom", "1:9"}, {"/dev/tty", "5:0"},
    };
    for (const auto& [path, rdev] : devices) {
        const Result r = run({"lab-probe", "stat", path});
        ASSERT_EQ(r.status, 0) << r;
        EXPECT_EQ(value(r.out, "type"), "chr") << path << r;
        EXPECT_EQ(value(r.out, "rdev"), rdev) << path << r;
        EXPECT_EQ(value(r.out, "mode"), "0666") << path << r;
    }
    const Result ptmx = run({"lab-probe", "stat", "/dev/ptmx"});
    EXPECT_EQ(value(ptmx.out, "exists"), "1") << ptmx;
    const Result shell = run({"sh", "-c", "echo through-dev-null > /dev/null && head -c 4 /dev/zero | wc -c"});
    EXPECT_EQ(shell.status, 0) << shell;
    EXPECT_NE(shell.out.find('4'), std::string::npos) << shell;
}

TEST_F(Rootfs, MissingRootfsIsRefusedWith125) {
    const std::string dir = "/nonexistent/" + unique("rootfs");
    const Result r = run({"--rootfs", dir, "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find(dir), std::string::npos) << "the message should name the directory" << r;
}

TEST_F(Rootfs, AFileAsRootfsIsRefusedWith125) {
    const Result r = run({"--rootfs", "/etc/passwd", "true"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("/etc/passwd"), std::string::npos) << r;
}

TEST_F(Rootfs, ExplicitRootfsIsUsedAndNothingStaysMounted) {
    const Result r = run({"--rootfs", config().rootfs, "lab-probe", "stat", "/usr/bin/lab-probe"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "exists"), "1") << r;
    EXPECT_EQ(host_mountinfo().find(config().rootfs), std::string::npos)
        << "the rootfs is still mounted on the host";
}

TEST_F(Rootfs, ExplainShowsPivotRoot) {
    const Result r = run({"--explain", "true"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.err.find("pivot_root("), std::string::npos) << r;
    EXPECT_NE(r.err.find("MS_BIND"), std::string::npos) << r;
    EXPECT_NE(r.err.find("umount2("), std::string::npos) << r;
}

} // namespace
} // namespace lab
