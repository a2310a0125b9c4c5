// Step 06 — the user namespace: root inside is an unprivileged uid outside,
// the maps are the ones asked for (and bad ones are refused), and a user who
// is not root gets a working, isolated container (rootless), with what it
// cannot have reported instead of silently dropped.
#include "cgroupfs.hpp"
#include "harness.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace lab {
namespace {

class Userns : public KernelTest {};

/// The user the rootless tests run as: nobody (65534) when the tests run as
/// root, else the caller.
const auto nobody = unprivileged_user();


/// The first field of a "Uid:"/"Gid:" line of /proc/PID/status (the real id).
std::string real_id(pid_t pid, const std::string& key) {
    std::istringstream fields(proc_status(pid, key));
    std::string first;
    fields >> first;
    return first;
}

size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

/// The index of the first stderr line matching `pattern`, or -1.
int line_matching(const Result& r, const std::string& pattern) {
    const std::regex wanted(pattern);
    std::istringstream lines(r.err);
    int index = 0;
    for (std::string line; std::getline(lines, line); ++index) {
        if (std::regex_search(line, wanted)) return index;
    }
    return -1;
}

STEP_TEST(Userns, RootInsideIsUid100000Outside,
          "With --userns the container's root (uid 0 inside) is uid 100000 on the host: a new user namespace "
          "(CLONE_NEWUSER) with the default map 0:100000:65536.") {
    // It waits for SIGUSR1 (forwarded by the runtime) until the test has looked, however long that takes.
    Runtime rt({"--userns", "sh", "-c", "trap 'exit 0' USR1; lab-probe ids; echo ready; sleep 30 & wait"});
    REQUIRE(expect_output(rt, "ready", "the container prints its ids, then ready"));
    const Result running = rt.record();
    expect_value(running, "uid", "0", "the container runs as root inside");
    expect_value(running, "euid", "0", "the container runs as root inside");
    expect_value(running, "gid", "0", "the container's group is root inside");
    const pid_t init = container_init(rt.pid());
    REQUIRE(expect_true(init != 0, "the container's PID 1 under the runtime", "there is none", &running));
    expect_true(real_id(init, "Uid") == "100000", "the host to see the container's root as uid 100000",
                "it sees uid " + real_id(init, "Uid"), &running);
    expect_true(real_id(init, "Gid") == "100000", "the host to see the container's root group as gid 100000",
                "it sees gid " + real_id(init, "Gid"), &running);
    expect_true(namespace_of(init, "user") != namespace_of(::getpid(), "user"),
                "the container in a user namespace of its own", "it is in the host's", &running);
    rt.signal(SIGUSR1);
    const Result r = rt.finish();
    expect_exit(r, 0, "the container's shell exits 0");
}

STEP_TEST(Userns, DefaultMapIsTheSubordinateRange,
          "--userns alone maps the container's ids 0-65535 to the host's 100000-165535 (uid_map and gid_map "
          "\"0 100000 65536\").") {
    const Result r = run({"--userns", "lab-probe", "ids"});
    REQUIRE(expect_exit(r, 0, "lab-probe ids runs and exits 0 in the container"));
    expect_values(r, "uid_map", {"0 100000 65536"}, "the default uid map");
    expect_values(r, "gid_map", {"0 100000 65536"}, "the default gid map");
}

STEP_TEST(Userns, MapsAreTheOnesAskedFor,
          "--uidmap and --gidmap (repeatable) give exactly the maps asked for, and imply --userns.") {
    const Result r = run({"--uidmap", "0:200000:1000", "--uidmap", "1000:300000:10", "--gidmap", "0:400000:500",
                          "lab-probe", "ids"});
    REQUIRE(expect_exit(r, 0, "lab-probe ids runs and exits 0 in the container"));
    expect_values(r, "uid_map", {"0 200000 1000", "1000 300000 10"}, "the two --uidmap ranges, in order");
    expect_values(r, "gid_map", {"0 400000 500"}, "the --gidmap range");
    expect_value(r, "uid", "0", "the container runs as root inside");
}

STEP_TEST(Userns, AUidmapAloneAlsoMapsTheGroups,
          "A --uidmap without --gidmap maps the groups the same way (else every gid would be unmapped).") {
    const Result r = run({"--uidmap", "0:200000:1000", "lab-probe", "ids"});
    REQUIRE(expect_exit(r, 0, "lab-probe ids runs and exits 0 in the container"));
    expect_values(r, "gid_map", {"0 200000 1000"}, "the gid map follows the uid map");
}

STEP_TEST(Userns, HostFilesShowUpAsNobody,
          "Files owned by host root, which is not in the map, show up as nobody (65534) inside.") {
    // The rootfs belongs to host root, which is not in the map.
    const Result r = run({"--userns", "lab-probe", "stat", "/bin/busybox"});
    REQUIRE(expect_exit(r, 0, "lab-probe stat runs and exits 0 in the container"));
    expect_value(r, "uid", "65534", "host root is unmapped inside, so its files belong to the overflow uid 65534");
}

STEP_TEST(Userns, RootInsideCannotMakeDevices,
          "Root in a user namespace is not root on the host: mknod of a device fails.") {
    const Result r = run({"--userns", "sh", "-c", "mknod /tmp/null c 1 3 && echo made || echo refused"});
    expect_exit(r, 0, "the container's shell exits 0");
    expect_stdout_contains(r, "refused", "mknod must fail in a user namespace");
}

STEP_TEST(Userns, DevicesAndSysStillWorkInsideAUserNamespace,
          "In a user namespace, where mknod is not allowed, /dev/null and /dev/zero still work (bind-mounted "
          "from the host) and /sys is still read-only.") {
    const Result r = run({"--userns", "sh", "-c",
                          "echo x > /dev/null && head -c 4 /dev/zero | wc -c && lab-probe writable /sys && "
                          "lab-probe stat /dev/null"});
    REQUIRE(expect_exit(r, 0, "writing /dev/null, reading /dev/zero and the probes work"));
    expect_stdout_contains(r, "4", "4 bytes read from /dev/zero");
    expect_value(r, "writable", "0", "/sys must be read-only");
    expect_value(r, "rdev", "1:3", "/dev/null is the real null device (1:3)");
}

STEP_TEST(Userns, CgroupLimitsStillApplyAsRoot,
          "With --userns (run by root) the cgroup limits still hold: 128 MiB under --memory 64m is OOM-killed.") {
    const Result r = run({"--userns", "--memory", "64m", "lab-probe", "alloc", "128"});
    expect_exit(r, 137, "the OOM killer sends SIGKILL: 128+9");
    expect_stderr_contains(r, "out of memory", "the runtime names the OOM kill");
}

STEP_TEST(Userns, TheContainerSeesItsOwnCgroupNotTheHosts,
          "With --userns /sys is the host's, bound recursively, and the host's cgroup mounts come along; at "
          "/sys/fs/cgroup the container must still see its own cgroup (its limits, its root), read-only - on a "
          "cgroup v2 host too, where mounting cgroup2 onto the host's cgroup2 mount is EBUSY.") {
    const Result r = run({"--userns", "-m", "64m", "--pids-limit", "42", "sh", "-c",
                          "lab-probe limits; lab-probe writable /sys/fs/cgroup; lab-probe cgroup"});
    REQUIRE(expect_exit(r, 0, "the container starts with its cgroup view mounted"));
    expect_value(r, "pids.max", "42", "/sys/fs/cgroup shows the container's own cgroup");
    const std::string v2 = value(r.out, "memory.max");
    expect_true((v2.empty() ? value(r.out, "memory.limit_in_bytes") : v2) == "67108864",
                "the memory limit 67108864 (64m) read inside", "it reads something else", &r);
    expect_value(r, "writable", "0", "the limits must not be writable inside");
    for (const auto& line : values(r.out, "cgroup")) {
        expect_true(line.ends_with(":/"), "the container's cgroup to be its root (\":/\")", line, &r);
    }
}

STEP_TEST_ANY_USER(Userns, RootlessSeesNoHostCgroups,
                   "Rootless there is no cgroup of the container's, and /sys/fs/cgroup must not show the host's "
                   "cgroup tree (v2: cgroup.procs at its root; v1: memory/, pids/, unified/).") {
    const Result r = run(Launch{{"sh", "-c",
                                 "for f in cgroup.procs memory pids unified; do lab-probe stat /sys/fs/cgroup/$f; done"},
                                nobody});
    REQUIRE(expect_exit(r, 0, "a rootless container works"));
    expect_values(r, "exists", {"0", "0", "0", "0"}, "none of the host's cgroup files inside");
}

STEP_TEST_ANY_USER(Userns, BadMapsAreRefusedWith125,
                   "Bad maps (overlapping inside or outside, past 2^32, empty, malformed, root unmapped) are "
                   "refused with 125 before anything starts, and the message names the option.") {
    const std::vector<std::vector<std::string>> bad = {
        {"--uidmap", "0:100000:100", "--uidmap", "50:200000:10"},  // overlap inside
        {"--uidmap", "0:100000:100", "--uidmap", "200:100050:10"}, // overlap outside
        {"--gidmap", "0:100000:100", "--gidmap", "0:300000:1"},
        {"--uidmap", "0:4294967295:2"},                             // past 2^32
        {"--uidmap", "0:1:4294967296"},
        {"--uidmap", "0:100000:0"},                                 // empty
        {"--uidmap", "0:100000"},                                   // malformed
        {"--uidmap", "a:b:c"},
        {"--uidmap", "-1:100000:1"},
        {"--uidmap", "1:100000:10"},                                // root not mapped
    };
    for (const auto& flags : bad) {
        std::vector<std::string> args = flags;
        args.push_back("true");
        const Result r = run(args);
        std::string given;
        for (const auto& f : flags) given += (given.empty() ? "" : " ") + f;
        expect_exit(r, 125, given + " is not a valid map");
        expect_stderr_contains(r, flags[0], "the message names the option");
    }
}

STEP_TEST(Userns, ExplainShowsTheParentWritingTheMaps,
          "--explain narrates the user namespace: CLONE_NEWUSER, the parent writing the child's maps "
          "(/proc/PID/uid_map; \"deny\" to setgroups before gid_map) and the child becoming root (setresuid).") {
    const Result r = run({"--explain", "--userns", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWUSER)", "the new user namespace",
                    "`clone(CLONE_NEWUSER|…|SIGCHLD) = 4242`");
    // The maps are written from outside, by the parent, into the child's
    // /proc/PID (a child writing /proc/self could only map itself).
    const int setgroups = line_matching(r, R"(\bwrite\("/proc/[0-9]+/setgroups")");
    const int gid_map = line_matching(r, R"(\bwrite\("/proc/[0-9]+/gid_map")");
    const std::string shape = "`[parent] write(\"/proc/4242/uid_map\", \"0 100000 65536\") = 15`";
    if (expect_narrated(r, R"(\bwrite\("/proc/[0-9]+/uid_map")", "the parent writing the child's uid_map", shape)) {
        expect_narrated(r, R"(\bwrite\("/proc/[0-9]+/setgroups")", "the parent writing the child's setgroups",
                        "`[parent] write(\"/proc/4242/setgroups\", \"deny\") = 4`");
        expect_narrated(r, R"(\bwrite\("/proc/[0-9]+/gid_map")", "the parent writing the child's gid_map",
                        "`[parent] write(\"/proc/4242/gid_map\", \"0 100000 65536\") = 15`");
        if (setgroups >= 0 && gid_map >= 0) {
            expect_true(setgroups < gid_map, "setgroups written before gid_map (the kernel requires it)",
                        "gid_map comes first", &r);
        }
    }
    expect_narrated(r, R"(\bset(res)?uid\(0)", "the child becoming root of its namespace",
                    "`setresuid(0, 0, 0) = 0`");
}

// --- rootless ---------------------------------------------------------------

STEP_TEST_ANY_USER(Userns, RootlessRunIsIsolatedAndRootInside,
                   "A user who is not root gets a working container (rootless): its own hostname and PID 1, "
                   "root inside mapped to the caller's own uid only, setgroups denied.") {
    const std::string before = host_hostname();
    const Result r = run(Launch{{"--hostname", "rootless", "sh", "-c", "lab-probe hostname; lab-probe ids"}, nobody});
    REQUIRE(expect_exit(r, 0, "a rootless container works"));
    expect_value(r, "hostname", "rootless", "the container's hostname is the one given with --hostname");
    expect_value(r, "uid", "0", "the caller is root inside");
    expect_values(r, "uid_map", {"0 " + std::to_string(unprivileged_uid()) + " 1"},
                  "an unprivileged user can map only its own uid");
    expect_value(r, "setgroups", "deny", "without privileges setgroups must be denied before writing gid_map");
    expect_true(host_hostname() == before, "the host's hostname to stay " + before, "it is now " + host_hostname(),
                &r);
    const Result pid = run(Launch{{"lab-probe", "pid"}, nobody});
    REQUIRE(expect_exit(pid, 0, "a rootless container works"));
    expect_value(pid, "pid", "1", "COMMAND is PID 1 of its own PID namespace, rootless too");
}

STEP_TEST_ANY_USER(Userns, RootlessHasItsOwnRootfsProcAndDev,
                   "Rootless, the container still gets the lab rootfs, a /proc of its own PID namespace, a "
                   "working /dev/null and a read-only /sys.") {
    const Result r = run(Launch{{"sh", "-c", "lab-probe stat /srv/www/index.html; lab-probe pids; "
                                             "echo x > /dev/null && echo null-ok; lab-probe writable /sys"},
                                nobody});
    REQUIRE(expect_exit(r, 0, "a rootless container works"));
    expect_value(r, "exists", "1", "the lab rootfs's /srv/www/index.html is there");
    expect_true(values(r.out, "pid").size() <= 3u, "/proc to show only the container's processes (at most 3)",
                std::to_string(values(r.out, "pid").size()) + " are listed", &r);
    expect_stdout_contains(r, "null-ok", "writing to /dev/null works");
    expect_value(r, "writable", "0", "/sys must be read-only");
}

STEP_TEST_ANY_USER(Userns, RootlessWarnsOncePerLimitItCannotHonour,
                   "Rootless, cgroup limits cannot be set: the container still runs, and each limit asked for "
                   "gets exactly one warning (nothing dropped silently).") {
    const Result r = run(Launch{{"--memory", "64m", "--pids-limit", "10", "--cpus", "0.5", "true"}, nobody});
    expect_exit(r, 0, "the container runs without its limits");
    for (const std::string flag : {"--memory", "--pids-limit", "--cpus"}) {
        expect_true(count(r.err, "warning: " + flag) == 1u, "exactly one line \"warning: " + flag + " …\" on stderr",
                    "there are " + std::to_string(count(r.err, "warning: " + flag)), &r);
    }
    expect_true(count(r.err, "warning:") == 3u, "exactly 3 warnings, one per limit",
                "there are " + std::to_string(count(r.err, "warning:")), &r);
}

STEP_TEST_ANY_USER(Userns, RootlessCannotMapOtherIds,
                   "An unprivileged user cannot map ids other than its own: --uidmap 0:100000:65536 is refused "
                   "with 125, naming the option.") {
    const Result r = run(Launch{{"--uidmap", "0:100000:65536", "true"}, nobody});
    expect_exit(r, 125, "an unprivileged user cannot map other users' ids");
    expect_stderr_contains(r, "--uidmap", "the message names the option");
}

STEP_TEST_ANY_USER(Userns, RootlessNeedsAReadableRootfs,
                   "Rootless, a --rootfs the caller cannot read is refused with 125, naming the directory.") {
    char dir[] = "/tmp/nsrun-private-rootfs-XXXXXX";
    REQUIRE(expect_true(::mkdtemp(dir) != nullptr, "to make a temporary directory", "mkdtemp failed"));
    // Root's 0700 directory is closed to nobody; without root, a mode-0
    // directory of our own is closed to us.
    ::chmod(dir, ::geteuid() == 0 ? 0700 : 0);
    const Result r = run(Launch{{"--rootfs", dir, "true"}, nobody});
    ::rmdir(dir);
    expect_exit(r, 125, "the caller cannot read the rootfs");
    expect_stderr_contains(r, dir, "the message names the rootfs");
}

/// A directory like a home of mode 0750 on Ubuntu: owned by another user
/// (uid 4242), so neither the container's root (host uid 100000) nor nobody
/// may enter it; a copy of the lab rootfs in it (a copy, not a bind mount:
/// from step 07 on the runtime runs in a throwaway host's mount namespace).
/// Removed at the end.
class PrivateHome {
public:
    PrivateHome() {
        char templ[] = "/tmp/nsrun-home-XXXXXX";
        if (::mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = templ;
        const std::string copy = "cp -a '" + config().rootfs + "' '" + rootfs() + "'";
        if (std::system(copy.c_str()) != 0 || ::chown(dir_.c_str(), 4242, 4242) != 0 ||
            ::chmod(dir_.c_str(), 0750) != 0) {
            throw std::runtime_error("making " + rootfs() + " failed");
        }
    }
    PrivateHome(const PrivateHome&) = delete;
    PrivateHome& operator=(const PrivateHome&) = delete;
    ~PrivateHome() {
        // --one-file-system: never into something a broken runtime left mounted.
        const std::string remove = "rm -rf --one-file-system '" + dir_ + "'";
        if (std::system(remove.c_str()) != 0) ADD_FAILURE() << "could not remove " << dir_;
    }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string rootfs() const { return dir_ + "/lab"; }

private:
    std::string dir_;
};

STEP_TEST(Userns, ARootfsUnderAPrivateHomeWorksAsRoot,
          "A rootfs under a directory of mode 0750 that belongs to another user (a home directory on Ubuntu) "
          "works as root with --userns, although host uid 100000 may not walk there: the child must not need "
          "the path.") {
    PrivateHome home;
    const Result r = run({"--userns", "--rootfs", home.rootfs(), "sh", "-c", "lab-probe ids; lab-probe pid"});
    REQUIRE(expect_exit(r, 0, "the container starts from a rootfs under a 0750 directory"));
    expect_value(r, "uid", "0", "the container runs as root inside");
    expect_value(r, "pid", "1", "the shell is PID 1");
}

STEP_TEST(Userns, RootlessNamesTheDirectoryThatBlocks,
          "Rootless, a caller who may not enter a directory on the way to the rootfs gets 125, and the message "
          "names that directory and the fix (chmod o+x DIR).") {
    PrivateHome home;
    const Result r = run(Launch{{"--rootfs", home.rootfs(), "true"}, nobody});
    expect_exit(r, 125, "the caller cannot reach the rootfs");
    expect_stderr_contains(r, "may not enter " + home.dir() + " ", "the message names the directory that blocks");
    expect_stderr_contains(r, "chmod o+x " + home.dir(), "the hint gives the fix");
}

STEP_TEST(Userns, NothingIsLeftBehind,
          "With a user namespace and a cgroup, ended by SIGTERM, and rootless, killed by a signal, the runtime "
          "leaves no cgroup, no process and no mount behind.") {
    // As root with a user namespace and a cgroup, ended by SIGTERM ...
    Runtime rt({"--userns", "--pids-limit", "20", "sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 30 & wait"});
    REQUIRE(expect_output(rt, "ready", "the container's shell prints ready"));
    const pid_t init = container_init(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(init != 0, "the container's PID 1 under the runtime", "there is none", &running));
    const auto dirs = own_cgroup_dirs(init);
    const auto inside = descendants(rt.pid());
    expect_true(!dirs.empty(), "the container in cgroups of its own (--pids-limit 20)",
                "it is in the same cgroups as the tests", &running);
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    expect_exit(r, 0, "SIGTERM is forwarded; the container's TERM trap exits 0");
    for (const auto& dir : dirs) {
        expect_true(!dir_exists(dir), "the container's cgroup " + dir + " removed", "it was left behind", &r);
    }
    const std::string alive = still_alive(inside);
    expect_true(alive.empty(), "every process of the container gone", "these outlived it: " + alive, &r);
    // ... and rootless, killed by a signal.
    Runtime rootless(Launch{{"sh", "-c", "echo ready; sleep 30"}, nobody});
    REQUIRE(expect_output(rootless, "ready", "the rootless container's shell prints ready"));
    const auto rootless_inside = descendants(rootless.pid());
    const Result rootless_running = rootless.record();
    REQUIRE(expect_true(!rootless_inside.empty(), "the rootless container's processes under the runtime",
                        "there are none", &rootless_running));
    REQUIRE(expect_true(::kill(container_init(rootless.pid()), SIGKILL) == 0,
                        "to be able to SIGKILL the rootless container", "kill() failed", &rootless_running));
    const Result rr = rootless.finish(15s);
    expect_exit(rr, 137, "the container was killed by SIGKILL: 128+9");
    const std::string rootless_alive = still_alive(rootless_inside);
    expect_true(rootless_alive.empty(), "every process of the rootless container gone",
                "these outlived it: " + rootless_alive, &rr);
    expect_true(host_mountinfo().find(config().rootfs) == std::string::npos,
                "nothing of the rootfs mounted on the host afterwards", "the rootfs is still mounted on the host",
                &rr);
}

} // namespace
} // namespace lab
