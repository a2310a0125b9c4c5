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

STEP_TEST(Rootfs, HostFilesAreUnreachable,
          "After pivot_root into the rootfs, a file the test just made on the host is not reachable from inside.") {
    const std::string marker = cwd() + "/" + unique("nsrun-marker");
    std::ofstream(marker) << "host only\n";
    const Result r = run({"lab-probe", "stat", marker});
    ::unlink(marker.c_str());
    REQUIRE(expect_exit(r, 0, "lab-probe stat runs and exits 0 in the container"));
    expect_value(r, "exists", "0", "the host's " + marker + " must not be visible inside");
}

STEP_TEST(Rootfs, RootIsTheLabRootfs,
          "By default the container's / is the lab rootfs: its web page /srv/www/index.html and its "
          "/etc/os-release (which names nsrun) are there.") {
    // The lab rootfs has a web page the host does not have at that path.
    const Result r = run({"lab-probe", "stat", "/srv/www/index.html"});
    REQUIRE(expect_exit(r, 0, "lab-probe stat runs and exits 0 in the container"));
    expect_value(r, "exists", "1", "the lab rootfs has /srv/www/index.html");
    const Result os = run({"cat", "/etc/os-release"});
    expect_stdout_contains(os, "nsrun", "the container's /etc/os-release is the lab rootfs's, which names nsrun");
}

STEP_TEST(Rootfs, OldRootIsDetached,
          "Inside, only the container's own mounts remain (/, /proc, /sys, /dev, /tmp, /etc/…, /run): the host's "
          "old root is unmounted (umount2 MNT_DETACH) and its mount point removed.") {
    const Result r = run({"lab-probe", "mounts"});
    REQUIRE(expect_exit(r, 0, "lab-probe mounts runs and exits 0 in the container"));
    const auto mounts = values(r.out, "mount");
    REQUIRE(expect_true(!mounts.empty(), "lab-probe to list the container's mounts (mount= lines)", "it lists none",
                        &r));
    for (const auto& m : mounts) {
        const std::string where = m.substr(0, m.find(' '));
        const bool expected = where == "/" || where.starts_with("/proc") || where.starts_with("/sys") ||
                              where.starts_with("/dev") || where.starts_with("/tmp") ||
                              where.starts_with("/etc/") || where.starts_with("/run");
        expect_true(expected, "only the container's own mounts inside (/, /proc, /sys, /dev, /tmp, /etc/…, /run)",
                    "a mount of the host is still reachable inside: " + m, &r);
    }
    const Result old = run({"lab-probe", "stat", "/.oldroot"});
    expect_value(old, "exists", "0", "the old root's mount point /.oldroot is removed after pivot_root");
}

STEP_TEST(Rootfs, SystemDirectoriesAreMounted,
          "The container gets the standard mounts: procfs on /proc, a read-only sysfs on /sys, a tmpfs /dev with "
          "devpts on /dev/pts and a tmpfs /dev/shm, and a tmpfs /tmp.") {
    const Result r = run({"lab-probe", "mounts"});
    REQUIRE(expect_exit(r, 0, "lab-probe mounts runs and exits 0 in the container"));
    std::map<std::string, std::string> by_point;
    for (const auto& m : values(r.out, "mount")) {
        by_point[m.substr(0, m.find(' '))] = m;
    }
    const std::vector<std::pair<std::string, std::string>> wanted = {
        {"/proc", "proc"}, {"/sys", "sysfs"}, {"/dev", "tmpfs"}, {"/dev/pts", "devpts"},
        {"/dev/shm", "tmpfs"}, {"/tmp", "tmpfs"},
    };
    for (const auto& [point, type] : wanted) {
        const std::string& m = by_point[point];
        expect_true(m.starts_with(point + " " + type + " "), "a " + type + " mounted on " + point,
                    m.empty() ? "nothing is mounted there" : "the mount there is: " + m, &r);
    }
    expect_true(by_point["/sys"].find(" ro") != std::string::npos, "/sys mounted read-only (ro)",
                "its mount is: " + by_point["/sys"], &r);
}

STEP_TEST(Rootfs, SysIsReadOnly,
          "/sys is read-only inside: the container cannot write the host's kernel settings through it.") {
    const Result r = run({"lab-probe", "writable", "/sys"});
    REQUIRE(expect_exit(r, 0, "lab-probe writable runs and exits 0 in the container"));
    expect_value(r, "writable", "0", "/sys must be read-only inside");
}

STEP_TEST(Rootfs, StandardDeviceNodesExist,
          "/dev holds the standard device nodes (null, zero, full, random, urandom, tty: character devices with "
          "the right numbers, mode 0666) and /dev/ptmx, and they work.") {
    const std::map<std::string, std::string> devices = {
        {"/dev/null", "1:3"}, {"/dev/zero", "1:5"},    {"/dev/full", "1:7"},
        {"/dev/random", "1:8"}, {"/dev/urandom", "1:9"}, {"/dev/tty", "5:0"},
    };
    for (const auto& [path, rdev] : devices) {
        const Result r = run({"lab-probe", "stat", path});
        REQUIRE(expect_exit(r, 0, "lab-probe stat runs and exits 0 in the container"));
        expect_value(r, "type", "chr", path + " is a character device");
        expect_value(r, "rdev", rdev, path + " is device " + rdev);
        expect_value(r, "mode", "0666", path + " is readable and writable by all (0666)");
    }
    const Result ptmx = run({"lab-probe", "stat", "/dev/ptmx"});
    expect_value(ptmx, "exists", "1", "/dev/ptmx exists (pseudo-terminals)");
    const Result shell = run({"sh", "-c", "echo through-dev-null > /dev/null && head -c 4 /dev/zero | wc -c"});
    expect_exit(shell, 0, "writing to /dev/null and reading /dev/zero work");
    expect_stdout_contains(shell, "4", "4 bytes read from /dev/zero");
}

STEP_TEST(Rootfs, MissingRootfsIsRefusedWith125,
          "--rootfs naming a directory that does not exist is refused with 125, and the message names it.") {
    const std::string dir = "/nonexistent/" + unique("rootfs");
    const Result r = run({"--rootfs", dir, "true"});
    expect_exit(r, 125, "a missing --rootfs directory is a runtime error");
    expect_stderr_contains(r, dir, "the message names the directory");
}

STEP_TEST(Rootfs, AFileAsRootfsIsRefusedWith125,
          "--rootfs naming a file, not a directory, is refused with 125, and the message names it.") {
    const Result r = run({"--rootfs", "/etc/passwd", "true"});
    expect_exit(r, 125, "a file is not a root filesystem");
    expect_stderr_contains(r, "/etc/passwd", "the message names the file");
}

STEP_TEST(Rootfs, ExplicitRootfsIsUsedAndNothingStaysMounted,
          "--rootfs DIR is used as the container's /, and after the run nothing of it stays mounted on the host.") {
    const Result r = run({"--rootfs", config().rootfs, "lab-probe", "stat", "/usr/bin/lab-probe"});
    REQUIRE(expect_exit(r, 0, "the container runs in the given rootfs"));
    expect_value(r, "exists", "1", "the lab rootfs has /usr/bin/lab-probe");
    expect_true(host_mountinfo().find(config().rootfs) == std::string::npos,
                "nothing of " + config().rootfs + " mounted on the host after the run",
                "the rootfs is still mounted on the host", &r);
}

STEP_TEST(Rootfs, ExplainShowsPivotRoot,
          "--explain narrates the root switch: the bind mount that makes the rootfs a mount point (MS_BIND), "
          "pivot_root, and the unmount of the old root.") {
    const Result r = run({"--explain", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"(\bpivot_root\()", "the switch of root filesystem", "`pivot_root(\".\", \".\") = 0`");
    expect_narrated(r, R"(\bmount\(.*MS_BIND)", "the bind mount of the rootfs onto itself",
                    "`mount(\"rootfs/lab\", \"rootfs/lab\", NULL, MS_BIND|MS_REC) = 0`");
    expect_narrated(r, R"(\bumount2?\()", "the unmount of the old root",
                    "`umount2(\".\", MNT_DETACH) = 0`");
}

} // namespace
} // namespace lab
