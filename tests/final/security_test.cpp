// Hardening: every default of `nsrun run` proved by the attack it stops,
// tried from inside the container — it fails, and the host is unchanged —
// and every relaxation (--cap-add, --cap-drop, --privileged,
// --security-opt) shown to do what it says.
#include "fixture.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lab {
namespace {

namespace fs = std::filesystem;

/// docker's default 14 as /proc/PID/status shows them (CapBnd and the rest).
const std::string docker_default = "00000000a80425fb";

class Security : public NsrunTest {
protected:
    /// `nsrun run --network none EXTRA… -- lab-probe PROBE…`.
    Result probe(std::vector<std::string> extra, const std::vector<std::string>& probe_args) {
        std::vector<std::string> args = {"run", "--network", "none"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.emplace_back("--");
        args.emplace_back("lab-probe");
        args.insert(args.end(), probe_args.begin(), probe_args.end());
        return nsrun(args);
    }

    /// The host's own bounding set, as the runtime sees it: what --privileged can give.
    static std::string host_bounding() {
        std::ifstream status("/proc/self/status");
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("CapBnd:")) {
                return line.substr(line.find_first_not_of(" \t", 7));
            }
        }
        return "";
    }
};

// --- capabilities ------------------------------------------------------------

STEP_TEST(Security, RootInsideHasDockersFourteenCapabilitiesAndNoAmbient,
          "COMMAND runs as root with docker's default 14 capabilities in its bounding, permitted, effective and "
          "inheritable sets (CapBnd=00000000a80425fb: no SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE, "
          "DAC_READ_SEARCH…) and an empty ambient set") {
    const Result r = probe({}, {"security"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "euid"), "0") << r;
    for (const char* set : {"cap_bnd", "cap_prm", "cap_eff", "cap_inh"}) {
        EXPECT_EQ(value(r.out, set), docker_default) << set << r;
    }
    EXPECT_EQ(value(r.out, "cap_amb"), "0000000000000000") << r;
}

STEP_TEST(Security, ANonRootUserHasNoEffectiveOrPermittedCapabilities,
          "with --user 1000 the effective and permitted sets are empty (the bounding and inheritable sets keep "
          "the 14), as docker does: a non-root process is not quietly more than a user") {
    const Result r = probe({"--user", "1000"}, {"security"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "euid"), "1000") << r;
    EXPECT_EQ(value(r.out, "cap_eff"), "0000000000000000") << r;
    EXPECT_EQ(value(r.out, "cap_prm"), "0000000000000000") << r;
    EXPECT_EQ(value(r.out, "cap_bnd"), docker_default) << r;
    EXPECT_EQ(value(r.out, "cap_amb"), "0000000000000000") << r;
}

STEP_TEST(Security, CapAddAndCapDropChangeTheSets,
          "--cap-add NET_ADMIN adds bit 12 to the default, --cap-drop ALL --cap-add KILL leaves only bit 5, "
          "--cap-drop chown removes bit 0 (names with or without CAP_, any case)") {
    const Result added = probe({"--cap-add", "NET_ADMIN"}, {"security"});
    EXPECT_EQ(value(added.out, "cap_eff"), "00000000a80435fb") << added;
    const Result only = probe({"--cap-drop", "ALL", "--cap-add", "cap_kill"}, {"security"});
    EXPECT_EQ(value(only.out, "cap_bnd"), "0000000000000020") << only;
    EXPECT_EQ(value(only.out, "cap_eff"), "0000000000000020") << only;
    const Result dropped = probe({"--cap-drop", "chown"}, {"security"});
    EXPECT_EQ(value(dropped.out, "cap_eff"), "00000000a80425fa") << dropped;
}

STEP_TEST(Security, PrivilegedHasEveryCapabilityTheRuntimeHas,
          "--privileged gives every capability of the runtime's own bounding set, in all four sets") {
    const Result r = probe({"--privileged"}, {"security"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "cap_bnd"), host_bounding()) << r;
    EXPECT_EQ(value(r.out, "cap_eff"), host_bounding()) << r;
}

STEP_TEST(Security, UnknownCapabilitiesAreRefusedBeforeAnythingIsCreated,
          "--cap-add or --cap-drop of a name the kernel does not know (or a bare number) is refused with 125, "
          "naming it, and nothing is created") {
    for (const auto& flags : std::vector<std::vector<std::string>>{
             {"--cap-add", "FOO"}, {"--cap-drop", "CAP_NOPE"}, {"--cap-add", "12"}, {"--security-opt", "bogus=1"}}) {
        const Result r = probe(flags, {"security"});
        EXPECT_EQ(r.status, 125) << flags[1] << r;
        EXPECT_NE(r.err.find(flags[1]), std::string::npos) << "the message names " << flags[1] << r;
        EXPECT_EQ(value(r.out, "cap_bnd"), "") << "the container must not start" << r;
    }
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
}

STEP_TEST(Security, MountIsRefusedAndTheHostMountTableIsUnchanged,
          "mount(2) of a tmpfs inside fails (no CAP_SYS_ADMIN) and the host's mount table is unchanged; with "
          "--cap-add SYS_ADMIN the same mount works, inside only") {
    const HostSnapshot before = snapshot();
    const Result r = probe({}, {"try-mount", "/mnt/attack"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "ok"), "0") << r;
    EXPECT_EQ(value(r.out, "errno"), "EPERM") << r;
    const Result relaxed = probe({"--cap-add", "SYS_ADMIN"}, {"try-mount", "/mnt/attack"});
    EXPECT_EQ(value(relaxed.out, "ok"), "1") << relaxed;
    EXPECT_EQ(snapshot().mounts, before.mounts) << "no mount may reach the host";
}

STEP_TEST(Security, OpenByHandleIsRefused,
          "open_by_handle_at(2) — the 2014 'shocker' escape, which opens any inode of a filesystem whatever "
          "the caller's root — fails without CAP_DAC_READ_SEARCH (and the seccomp filter refuses it and "
          "name_to_handle_at too); it works when DAC_READ_SEARCH and SYS_ADMIN are added") {
    const Result r = probe({}, {"try-open-by-handle", "/"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "ok"), "0") << r;
    EXPECT_EQ(value(r.out, "errno"), "EPERM") << r;
    const Result relaxed =
        probe({"--cap-add", "DAC_READ_SEARCH", "--cap-add", "SYS_ADMIN"}, {"try-open-by-handle", "/"});
    EXPECT_EQ(value(relaxed.out, "ok"), "1") << relaxed;
}

// --- masked and read-only paths ------------------------------------------------

/// The mount=MOUNTPOINT FSTYPE SOURCE OPTIONS line of `point` in `lab-probe mounts` output ("" if none).
std::string mount_line(const Result& r, const std::string& point) {
    std::string found;
    for (const auto& m : values(r.out, "mount")) {
        if (m.starts_with(point + " ")) {
            found = m; // the last one is on top
        }
    }
    return found;
}

bool read_only(const std::string& mount) {
    const std::string options = mount.substr(mount.rfind(' ') + 1);
    return options.starts_with("ro,") || options.find(",ro,") != std::string::npos;
}

STEP_TEST(Security, HostMemoryAndKernelTablesAreMasked,
          "/proc/kcore (the host's physical memory), /proc/keys, /proc/timer_list and the other masked files are "
          "/dev/null inside (character device 1:3, reads give 0 bytes); masked directories (/proc/acpi, "
          "/sys/firmware, …) are an empty read-only tmpfs; --privileged shows the real files") {
    ASSERT_TRUE(fs::exists("/proc/keys")) << "the kernel shows /proc/keys (CONFIG_KEYS)";
    for (const std::string path : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}) {
        if (!fs::exists(path)) {
            continue; // this kernel has no such file
        }
        const Result r = probe({}, {"stat", path});
        EXPECT_EQ(value(r.out, "rdev"), "1:3") << path << " must be /dev/null" << r;
        const Result read = probe({}, {"read", path});
        EXPECT_EQ(value(read.out, "bytes"), "0") << path << read;
    }
    const Result mounts = probe({}, {"mounts"});
    for (const std::string dir : {"/proc/acpi", "/proc/scsi", "/sys/firmware"}) {
        if (!fs::is_directory(dir)) {
            continue;
        }
        const std::string m = mount_line(mounts, dir);
        EXPECT_TRUE(m.starts_with(dir + " tmpfs ")) << dir << " must be covered by a tmpfs: " << m << mounts;
        EXPECT_TRUE(read_only(m)) << m;
    }
    const Result privileged = probe({"--privileged"}, {"stat", "/proc/keys"});
    EXPECT_EQ(value(privileged.out, "type"), "file") << "--privileged masks nothing" << privileged;
}

STEP_TEST(Security, CorePatternCannotBeWrittenAndTheHostKeepsIts,
          "writing /proc/sys/kernel/core_pattern (the host-wide program the kernel runs as root on a core "
          "dump: the classic escape) fails with EROFS, and the host's value is unchanged; /proc/sys, "
          "/proc/sysrq-trigger, /proc/irq, /proc/bus and /proc/fs are read-only mounts, and not with --privileged") {
    const std::string before = host_file("/proc/sys/kernel/core_pattern");
    ASSERT_FALSE(before.empty()) << "the host's core_pattern must be readable";
    const Result r = probe({}, {"write", "/proc/sys/kernel/core_pattern", "|/tmp/lab-escape %p"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "ok"), "0") << r;
    EXPECT_EQ(value(r.out, "errno"), "EROFS") << r;
    EXPECT_EQ(host_file("/proc/sys/kernel/core_pattern"), before) << "the host's core_pattern must be unchanged";
    const Result mounts = probe({}, {"mounts"});
    for (const std::string path : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", "/sys"}) {
        if (!fs::exists(path)) {
            continue;
        }
        const std::string m = mount_line(mounts, path);
        EXPECT_TRUE(!m.empty() && read_only(m)) << path << " must be a read-only mount: " << m << mounts;
    }
    // The relaxation is shown by the mount flags only: a privileged test must not write the host's settings.
    const Result privileged = probe({"--privileged"}, {"mounts"});
    EXPECT_EQ(mount_line(privileged, "/proc/sys"), "") << "--privileged: /proc/sys is not a mount of its own" << privileged;
    EXPECT_FALSE(read_only(mount_line(privileged, "/sys"))) << "--privileged: /sys read-write, as docker" << privileged;
}

// --- seccomp -----------------------------------------------------------------------

STEP_TEST(Security, ASeccompFilterIsLoadedByDefault,
          "COMMAND runs under one seccomp filter (Seccomp: 2, Seccomp_filters: 1), docker's default profile; "
          "--security-opt seccomp=unconfined and --privileged run it without one") {
    const Result r = probe({}, {"security"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "seccomp"), "2") << "mode 2: a filter" << r;
    EXPECT_EQ(value(r.out, "seccomp_filters"), "1") << r;
    for (const auto& relax : std::vector<std::vector<std::string>>{{"--security-opt", "seccomp=unconfined"},
                                                                   {"--privileged"}}) {
        const Result none = probe(relax, {"security"});
        EXPECT_EQ(value(none.out, "seccomp"), "0") << relax[0] << none;
    }
}

STEP_TEST(Security, NewNamespacesAreRefusedInside,
          "unshare(CLONE_NEWUSER) — the first move of most kernel exploits since user namespaces opened "
          "privileged code paths to anyone (CVE-2022-0185 and many since) — and unshare of a mount or network "
          "namespace fail with EPERM; with --cap-add SYS_ADMIN they work, as under docker") {
    for (const std::string ns : {"user", "mount", "net"}) {
        const Result r = probe({}, {"try-unshare", ns});
        ASSERT_EQ(r.status, 0) << r;
        EXPECT_EQ(value(r.out, "ok"), "0") << ns << r;
        EXPECT_EQ(value(r.out, "errno"), "EPERM") << ns << r;
    }
    const Result relaxed = probe({"--cap-add", "SYS_ADMIN"}, {"try-unshare", "mount"});
    EXPECT_EQ(value(relaxed.out, "ok"), "1") << relaxed;
    const Result unconfined = probe({"--security-opt", "seccomp=unconfined"}, {"try-unshare", "user"});
    EXPECT_EQ(value(unconfined.out, "ok"), "1") << "without the filter, only the filter stood in the way" << unconfined;
}

STEP_TEST(Security, AnX32CallGetsTheAnswerOfTheKernel,
          "a system call through the x32 ABI gets, inside the container, the answer the host's kernel gives it "
          "(most kernels have x32 off: ENOSYS). Where x32 is off, the default filter is compiled without its x32 "
          "section and answers ENOSYS itself for it: a call the kernel would refuse is not turned into a kill") {
    Launch on_host{{"lab-probe", "try-x32"}, {}};
    on_host.plain_command = true;
    const Result host = run(on_host);
    ASSERT_EQ(host.status, 0) << host;
    const std::string kernel_says = value(host.out, "ok") == "1" ? "ok=1" : "ok=0 errno=" + value(host.out, "errno");
    for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--security-opt", "seccomp=unconfined"}}) {
        const Result r = probe(extra, {"try-x32"});
        ASSERT_EQ(r.status, 0) << "the filter must not kill it (SIGSYS: 159)" << r;
        const std::string inside = value(r.out, "ok") == "1" ? "ok=1" : "ok=0 errno=" + value(r.out, "errno");
        EXPECT_EQ(inside, kernel_says) << (extra.empty() ? "default profile" : extra[1]) << r;
    }
}

STEP_TEST(Security, AProfileFileReplacesTheDefault,
          "--security-opt seccomp=FILE.json loads that profile (docker's format): one that refuses uname(2) "
          "makes `lab-probe hostname` fail with EPERM, while everything else runs") {
    TempDir dir;
    const std::string file = dir.path() + "/no-uname.json";
    std::ofstream(file) << R"({"defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
        "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})";
    const Result r = probe({"--security-opt", "seccomp=" + file}, {"hostname"});
    EXPECT_EQ(r.status, 1) << r;
    EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r;
    const Result others = probe({"--security-opt", "seccomp=" + file}, {"security"});
    EXPECT_EQ(value(others.out, "seccomp_filters"), "1") << others;
}

STEP_TEST(Security, BadSeccompProfilesAreRefusedBeforeAnythingIsCreated,
          "a missing profile file, malformed JSON, an unknown action or a system call libseccomp does not know "
          "is refused with 125, naming the file, and nothing is created") {
    TempDir dir;
    const std::map<std::string, std::string> profiles = {
        {"garbled.json", "{\"defaultAction\": "},
        {"action.json", R"({"defaultAction": "SCMP_ACT_MAYBE"})"},
        {"unknown.json", R"({"defaultAction": "SCMP_ACT_ERRNO",
                             "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]})"},
    };
    for (const auto& [name, text] : profiles) {
        std::ofstream(dir.path() + "/" + name) << text;
    }
    for (const std::string name : {"garbled.json", "action.json", "unknown.json", "missing.json"}) {
        const std::string file = dir.path() + "/" + name;
        const Result r = probe({"--security-opt", "seccomp=" + file}, {"security"});
        EXPECT_EQ(r.status, 125) << name << r;
        EXPECT_NE(r.err.find(file), std::string::npos) << "the message names the file" << r;
        EXPECT_EQ(value(r.out, "seccomp"), "") << "the container must not start" << r;
    }
    const Result unknown = probe({"--security-opt", "seccomp=" + dir.path() + "/unknown.json"}, {"security"});
    EXPECT_NE(unknown.err.find("no_such_call"), std::string::npos) << unknown;
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
}

// --- no_new_privs --------------------------------------------------------------

STEP_TEST(Security, ASetuidHelperGivesANonRootUserNothing,
          "no_new_privs is on (NoNewPrivs: 1): a setuid-root program in the rootfs run as --user 1000 stays "
          "euid 1000; with --security-opt no-new-privileges=false the same program becomes euid 0") {
    TempDir dir;
    const std::string root = dir.path() + "/rootfs";
    fs::copy(config().rootfs, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    const std::string helper = root + "/usr/bin/lab-probe";
    ASSERT_EQ(::chown(helper.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(helper.c_str(), 04755), 0) << "plant the setuid helper";
    const Result r = probe({"--rootfs", root, "--user", "1000"}, {"security"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "no_new_privs"), "1") << r;
    EXPECT_EQ(value(r.out, "euid"), "1000") << "the setuid bit must give nothing" << r;
    const Result relaxed = probe({"--rootfs", root, "--user", "1000", "--security-opt", "no-new-privileges=false"},
                                 {"security"});
    EXPECT_EQ(value(relaxed.out, "no_new_privs"), "0") << relaxed;
    EXPECT_EQ(value(relaxed.out, "euid"), "0") << "without no_new_privs setuid works again" << relaxed;
}

// --- paths from the rootfs are hostile ---------------------------------------------

/// A copy of the lab rootfs in `dir`/rootfs (the tests plant symlinks in it).
std::string copy_rootfs(const TempDir& dir) {
    const std::string root = dir.path() + "/rootfs";
    fs::copy(config().rootfs, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    return root;
}

/// Every name under `dir`, recursively (what the host holds there).
std::set<std::string> tree_of(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
        names.insert(entry.path().string());
    }
    return names;
}

/// A descriptor the runtime inherits: no O_CLOEXEC, at a number of our choosing.
class LeakedDescriptor {
public:
    LeakedDescriptor(const std::string& dir, int number) : fd_(number) {
        const int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY);
        ok_ = fd >= 0 && ::dup2(fd, number) == number;
        if (fd >= 0 && fd != number) {
            ::close(fd);
        }
    }
    LeakedDescriptor(const LeakedDescriptor&) = delete;
    LeakedDescriptor& operator=(const LeakedDescriptor&) = delete;
    ~LeakedDescriptor() { ::close(fd_); }
    [[nodiscard]] bool ok() const { return ok_; }

private:
    int fd_;
    bool ok_ = false;
};

STEP_TEST(Security, MountDestinationsThroughHostileSymlinksStayInsideTheRoot,
          "an image whose /escape-abs is a symlink to a host directory (absolute), /escape-rel one to "
          "../../../../..<host directory> and /escape-fd one to /proc/self/fd/99, a descriptor of that host "
          "directory which the runtime inherited from a careless caller (CVE-2021-30465, CVE-2024-21626 class): "
          "-v and --tmpfs through them land inside the container's root (openat2 RESOLVE_IN_ROOT|"
          "RESOLVE_NO_MAGICLINKS; the magic link's text is taken as a path inside the root), the container sees "
          "its volumes, and the host directory is untouched") {
    TempDir dir;
    const std::string root = copy_rootfs(dir);
    const std::string target = dir.path() + "/host-target";
    fs::create_directories(target);
    std::ofstream(target + "/keep") << "host";
    fs::create_symlink(target, root + "/escape-abs");
    fs::create_symlink("../../../../../../../.." + target, root + "/escape-rel");
    // After pivot_root no path leads back to the host; a descriptor does. The
    // runtime holds the ones it inherited until it closes them before exec,
    // and /proc/self/fd/99 in the container's /proc is its own while it mounts.
    const LeakedDescriptor leaked(target, 99);
    ASSERT_TRUE(leaked.ok()) << "open " << target;
    fs::create_symlink("/proc/self/fd/99", root + "/escape-fd");
    TempDir data;
    std::ofstream(data.path() + "/marker") << "volume";
    const auto before = tree_of(target);
    const Result r = nsrun({"run", "--network", "none", "--rootfs", root, "-v", data.path() + ":/escape-fd/vol3",
                            "-v", data.path() + ":/escape-abs/vol", "-v", data.path() + ":/escape-rel/vol2:ro",
                            "--tmpfs", "/escape-abs/t", "--", "sh", "-c",
                            "lab-probe read /escape-abs/vol/marker; lab-probe read /escape-rel/vol2/marker; "
                            "lab-probe read " + target + "/vol3/marker"});
    EXPECT_EQ(tree_of(target), before) << "nothing may be made in the host directory the symlinks name";
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(values(r.out, "bytes"), (std::vector<std::string>{"6", "6", "6"}))
        << "the volumes are inside (the one through the descriptor at the host path's name, inside the root)" << r;
    EXPECT_EQ(host_file(target + "/keep"), "host");
}

/// The throwaway host's whole mount table, line by line (ids, options, propagation and all).
std::string mountinfo_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The container id `nsrun run --explain` names ("container id ID: its cgroup is …"), or "".
std::string explained_id(const std::string& err) {
    const std::string key = "container id ";
    const auto at = err.find(key);
    if (at == std::string::npos) {
        return "";
    }
    const auto start = at + key.size();
    return err.substr(start, err.find(':', start) - start);
}

STEP_TEST(Security, AVolumeDestinationRacedThroughASharedVolumeNeverLeadsOut,
          "two containers share a host directory: A swaps its sub/ for a symlink to a host directory and back "
          "(renameat2 RENAME_EXCHANGE, as fast as it can) while B is started again and again with -v shared:/data "
          "and a volume onto /data/sub or a --tmpfs onto /data/sub/t (CVE-2021-30465's race): no start mounts or "
          "makes anything on the host (its mount table and the symlink's target are unchanged), and each start "
          "either runs with its mount inside its own root (B sees as many mounts as without the race) or fails "
          "with 125 and leaves no record and no cgroup") {
    TempDir shared;
    TempDir other;
    TempDir bait; // the host directory the symlink names
    std::ofstream(bait.path() + "/keep") << "host";
    std::ofstream(other.path() + "/token") << "other";
    fs::create_directory(shared.path() + "/sub");
    fs::create_symlink(bait.path(), shared.path() + "/link");
    const std::vector<std::vector<std::string>> variants = {
        {"-v", shared.path() + ":/data", "-v", other.path() + ":/data/sub"},
        {"-v", shared.path() + ":/data", "--tmpfs", "/data/sub/t"},
    };
    const auto start_b = [&](const std::vector<std::string>& variant) {
        std::vector<std::string> args = {"run", "--explain", "--network", "none"};
        args.insert(args.end(), variant.begin(), variant.end());
        args.insert(args.end(), {"--", "lab-probe", "mounts"});
        return nsrun(args);
    };
    // Without the race: how many mounts B sees with its volume in place.
    std::vector<std::size_t> expected;
    for (const auto& variant : variants) {
        const Result calm = start_b(variant);
        ASSERT_EQ(calm.status, 0) << calm;
        expected.push_back(values(calm.out, "mount").size());
    }
    const auto bait_before = tree_of(bait.path());
    const std::string table_before = mountinfo_of(host().pid());
    const auto host_before = snapshot();

    auto racer = start({"run", "--network", "none", "-v", shared.path() + ":/shared", "--", "lab-probe", "exchange",
                        "/shared/sub", "/shared/link", "/shared/stop"});
    bool swapping = false;
    for (int i = 0; i < 500 && !swapping; ++i) {
        swapping = fs::is_symlink(shared.path() + "/sub");
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(swapping) << "the racer never swapped sub/ for the symlink" << racer->finish(1s);
    const auto racer_ids = state_ids();

    int ran = 0;
    int refused = 0;
    std::set<std::string> reasons;
    for (int i = 0; i < 60; ++i) {
        const auto& variant = variants[i % variants.size()];
        const Result b = start_b(variant);
        ASSERT_TRUE(b.status == 0 || b.status == 125) << "start " << i << b;
        if (b.status == 0) {
            ++ran;
            EXPECT_EQ(values(b.out, "mount").size(), expected[i % variants.size()])
                << "start " << i << ": B's volume is not inside its root" << b;
        } else {
            ++refused;
            EXPECT_TRUE(values(b.out, "mount").empty()) << "start " << i << ": 125, yet the program ran" << b;
            std::istringstream lines(b.err);
            for (std::string line; std::getline(lines, line);) {
                if (line.starts_with("nsrun run: error")) {
                    reasons.insert(line.substr(0, 160));
                }
            }
        }
        const std::string id = explained_id(b.err);
        EXPECT_FALSE(id.empty()) << "start " << i << ": --explain named no container id" << b;
        EXPECT_TRUE(cgroups_of(id).empty()) << "start " << i << ": B's cgroup is left" << b;
        EXPECT_EQ(state_ids(), racer_ids) << "start " << i << ": only the racer may have a record" << b;
        ASSERT_EQ(tree_of(bait.path()), bait_before) << "start " << i << ": something was made in the host "
                                                     << "directory the symlink names" << b;
        ASSERT_EQ(mountinfo_of(host().pid()), table_before) << "start " << i << ": the host's mount table changed" << b;
    }

    std::ofstream(shared.path() + "/stop") << "stop";
    const Result done = racer->finish(30s);
    ASSERT_EQ(done.status, 0) << done;
    EXPECT_GT(std::stoll(value(done.out, "swaps").empty() ? "0" : value(done.out, "swaps")), 1000)
        << "the race must really have run" << done;
    EXPECT_EQ(tree_of(bait.path()), bait_before);
    EXPECT_EQ(host_file(bait.path() + "/keep"), "host");
    EXPECT_EQ(snapshot(), host_before) << "nothing of B's may be left on the host";
    EXPECT_EQ(ran + refused, 60);
    std::cout << "[ info     ] " << ran << " starts ran with their volume inside, " << refused
              << " were refused with 125, while the racer swapped " << value(done.out, "swaps") << " times\n";
    for (const auto& reason : reasons) {
        std::cout << "[ info     ]   " << reason << "\n";
    }
}

STEP_TEST(Security, ARootfsWhoseDevIsSwappedForASymlinkDuringAUsernsStartMakesNothingOnTheHost,
          "with --userns /dev is made before pivot_root, while the host is reachable: container A, given B's rootfs "
          "as a volume, swaps its /dev for a symlink to a world-writable host directory and back (renameat2 "
          "RENAME_EXCHANGE) while B starts again and again with --userns on that rootfs (the CVE-2025-31133 class "
          "as a race): each start runs or fails with 125, and nothing is ever made in the host directory — /dev's "
          "tmpfs is attached onto the directory opened with O_NOFOLLOW and filled through its own descriptor") {
    TempDir dir;
    const std::string root = copy_rootfs(dir);
    TempDir bait; // a host directory anyone may write to, as /tmp
    fs::permissions(bait.path(), fs::perms::all | fs::perms::sticky_bit);
    std::ofstream(bait.path() + "/keep") << "host";
    fs::create_symlink(bait.path(), root + "/devlink");
    const auto bait_before = tree_of(bait.path());
    const std::string table_before = mountinfo_of(host().pid());
    auto racer = start({"run", "--network", "none", "-v", root + ":/r", "--", "lab-probe", "exchange", "/r/dev",
                        "/r/devlink", "/r/stop"});
    bool swapping = false;
    for (int i = 0; i < 500 && !swapping; ++i) {
        swapping = fs::is_symlink(root + "/dev");
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(swapping) << "the racer never swapped /dev for the symlink" << racer->finish(1s);
    int ran = 0;
    for (int i = 0; i < 40; ++i) {
        const Result b = nsrun({"run", "--userns", "--network", "none", "--rootfs", root, "--", "true"});
        ASSERT_TRUE(b.status == 0 || b.status == 125) << "start " << i << b;
        ran += b.status == 0 ? 1 : 0;
        ASSERT_EQ(tree_of(bait.path()), bait_before)
            << "start " << i << ": something was made in the host directory the symlink names" << b;
        ASSERT_EQ(mountinfo_of(host().pid()), table_before) << "start " << i << ": the host's mount table changed" << b;
    }
    std::ofstream(root + "/stop") << "stop";
    const Result done = racer->finish(30s);
    ASSERT_EQ(done.status, 0) << done;
    EXPECT_FALSE(value(done.out, "swaps").empty()) << done;
    EXPECT_EQ(host_file(bait.path() + "/keep"), "host");
    std::cout << "[ info     ] " << ran << " of 40 starts ran, the others were refused with 125; the racer swapped "
              << value(done.out, "swaps") << " times\n";
}

STEP_TEST(Security, VolumesOntoProcOrSysAreRefused,
          "-v onto /proc, /sys or below (the cgroup view too) and --tmpfs there are refused with 125 and a named "
          "reason before anything is made; a destination that reaches /proc through a symlink of the image is "
          "refused too") {
    TempDir data;
    for (const auto& flags : std::vector<std::vector<std::string>>{{"-v", data.path() + ":/proc/sys/kernel"},
                                                                   {"-v", data.path() + ":/sys/fs/cgroup"},
                                                                   {"-v", data.path() + ":/proc"},
                                                                   {"--tmpfs", "/sys/kernel"}}) {
        const Result r = probe(flags, {"pid"});
        EXPECT_EQ(r.status, 125) << flags[1] << r;
        EXPECT_NE(r.err.find("kernel's view"), std::string::npos) << "the reason is named" << r;
        EXPECT_EQ(value(r.out, "pid"), "") << r;
    }
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
    TempDir dir;
    const std::string root = copy_rootfs(dir);
    fs::create_symlink("/proc/sys", root + "/p");
    const Result through = probe({"--rootfs", root, "-v", data.path() + ":/p/vm"}, {"pid"});
    EXPECT_EQ(through.status, 125) << through;
    EXPECT_NE(through.err.find("resolves into /proc"), std::string::npos) << through;
    EXPECT_EQ(value(through.out, "pid"), "") << through;
}

STEP_TEST(Security, ARootfsWhoseProcIsASymlinkIsRefused,
          "an image whose /proc (or /dev) is a symlink — to a host path or anywhere — is refused with 125 naming "
          "the link: the kernel's filesystems are mounted only on real directories (CVE-2019-16884)") {
    for (const std::string name : {"proc", "dev"}) {
        TempDir dir;
        const std::string root = copy_rootfs(dir);
        TempDir bait; // the host directory the link names
        fs::remove_all(root + "/" + name);
        fs::create_symlink(bait.path(), root + "/" + name);
        const Result r = probe({"--rootfs", root}, {"pid"});
        EXPECT_EQ(r.status, 125) << name << r;
        EXPECT_NE(r.err.find("/" + name + " is a symlink"), std::string::npos) << r;
        EXPECT_EQ(value(r.out, "pid"), "") << r;
        EXPECT_TRUE(tree_of(bait.path()).empty()) << "nothing may be made in the link's target";
    }
}

// --- mount propagation ------------------------------------------------------------

STEP_TEST(Security, MountsDoNotPropagateThroughAVolumeEitherWay,
          "volumes are rprivate (docker's default): with a shared host mount as the volume's source, a mount made "
          "inside under the volume (with --cap-add SYS_ADMIN) never appears on the host, and a mount the host makes "
          "under the source after the start never appears inside") {
    TempDir data;
    const std::string src = data.path();
    // A shared mount in the throwaway host: without rprivate, mounts would travel both ways.
    ASSERT_EQ(host().sh("mount --bind " + src + " " + src + " && mount --make-shared " + src).status, 0);
    fs::create_directories(src + "/inside");
    fs::create_directories(src + "/late");
    const std::string id = detach({"--name", "prop", "--network", "none", "--cap-add", "SYS_ADMIN", "-v",
                                   src + ":/data", "--", "sleep", "100"});
    const Result inside = nsrun({"exec", "prop", "lab-probe", "try-mount", "/data/inside"});
    EXPECT_EQ(value(inside.out, "ok"), "1") << inside;
    const Result host_mounts = host().sh("grep -c ' " + src + "/inside ' /proc/self/mountinfo");
    EXPECT_EQ(first_line(host_mounts.out), "0") << "the container's mount must not reach the host" << host_mounts;
    ASSERT_EQ(host().sh("mount -t tmpfs lab-late " + src + "/late").status, 0);
    const Result seen = nsrun({"exec", "prop", "lab-probe", "mounts"});
    ASSERT_EQ(seen.status, 0) << seen;
    EXPECT_EQ(mount_line(seen, "/data/late"), "") << "the host's later mount must not appear inside" << seen;
    EXPECT_NE(mount_line(seen, "/data/inside"), "") << "the container's own mount is there" << seen;
    host().sh("umount " + src + "/late; umount -l " + src);
}

// --- the runtime binary (CVE-2019-5736) ---------------------------------------------

STEP_TEST(Security, TheRuntimeBinaryIsOutOfReachFromInside,
          "an --init PID 1 is nsrun's code for the container's whole life, and an image whose COMMAND is "
          "#!/proc/self/exe makes the kernel run nsrun's image as the container: both are a sealed in-memory copy "
          "(memfd), never the host's binary (a plain run reaches only the sealed exec stub, which refuses to run); /proc/1/exe is closed to root inside (not dumpable), and with "
          "--cap-add SYS_PTRACE it opens the sealed copy, which refuses the write; the host's binary is unchanged") {
    TempDir dir;
    const std::string bin = dir.path() + "/nsrun";
    fs::copy_file(config().bin.front(), bin);
    fs::permissions(bin, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    const std::string before = host_file(bin);
    ASSERT_FALSE(before.empty());
    const std::string root = copy_rootfs(dir);
    // An image with the host's C libraries (as any glibc image has): nsrun's image can run in it.
    std::istringstream libraries(host().exec({"ldd", bin}).out);
    for (std::string word; libraries >> word;) {
        if (word.starts_with("/") && fs::exists(word)) {
            fs::create_directories(root + fs::path(word).parent_path().string());
            fs::copy_file(word, root + word, fs::copy_options::overwrite_existing);
        }
    }
    std::ofstream(root + "/evil") << "#!/proc/self/exe --version\n";
    fs::permissions(root + "/evil", fs::perms::owner_all);
    const auto copy = [&](std::vector<std::string> args) {
        args.insert(args.begin(), bin);
        return host().exec(args);
    };
    const Result started = copy({"run", "-d", "--name", "exe", "--network", "none", "--init", "--rootfs", root,
                                 "--", "sleep", "100"});
    ASSERT_EQ(started.status, 0) << started;
    const Result closed = copy({"exec", "exe", "lab-probe", "try-write-exe", "1"});
    EXPECT_EQ(value(closed.out, "ok"), "0") << closed;
    EXPECT_EQ(value(closed.out, "errno"), "EACCES") << "PID 1 is not dumpable" << closed;
    const Result traced = copy({"run", "--network", "none", "--init", "--cap-add", "SYS_PTRACE", "--rootfs", root,
                                "--", "lab-probe", "try-write-exe", "1"});
    EXPECT_TRUE(value(traced.out, "exe").starts_with("/memfd:nsrun")) << "PID 1 runs the sealed copy" << traced;
    EXPECT_EQ(value(traced.out, "ok"), "0") << traced;
    const std::string refused = value(traced.out, "errno");
    EXPECT_TRUE(refused == "EPERM" || refused == "ETXTBSY") << "the sealed copy refuses writes" << traced;
    const Result script = copy({"exec", "exe", "/evil"});
    EXPECT_NE(script.out.find("nsrun"), std::string::npos) << "the kernel ran nsrun's image inside" << script;
    // A plain run (no --init) does not re-exec: its last exec goes through
    // the sealed stub, and that is all a #!/proc/self/exe COMMAND reaches.
    const Result stub = copy({"run", "--network", "none", "--rootfs", root, "--", "/evil"});
    EXPECT_EQ(stub.status, 126) << stub;
    EXPECT_NE(stub.err.find("nsrun-exec: this is nsrun's exec step"), std::string::npos)
        << "the kernel ran the sealed stub, not the host's nsrun" << stub;
    EXPECT_EQ(stub.out.find("nsrun version"), std::string::npos) << "the host's nsrun must not run inside" << stub;
    EXPECT_EQ(host_file(bin), before) << "the host's nsrun binary must be unchanged";
    copy({"rm", "-f", "exe"});
}

// --- resource limits -----------------------------------------------------------------

STEP_TEST(Security, UlimitAndOomScoreAdjApplyToTheContainersProcess,
          "--ulimit nofile=1024:2048 --ulimit core=0 --ulimit nproc=300:400 set COMMAND's limits (getrlimit inside), "
          "--oom-score-adj 500 its /proc/PID/oom_score_adj, as seen from the host too") {
    const Result r = probe({"--ulimit", "nofile=1024:2048", "--ulimit", "core=0", "--ulimit", "nproc=300:400",
                            "--oom-score-adj", "500"},
                           {"rlimits"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "nofile"), "1024:2048") << r;
    EXPECT_EQ(value(r.out, "core"), "0:0") << r;
    EXPECT_EQ(value(r.out, "nproc"), "300:400") << r;
    EXPECT_EQ(value(r.out, "oom_score_adj"), "500") << r;
    detach({"--name", "oom", "--network", "none", "--oom-score-adj", "300", "--", "sleep", "100"});
    const auto info = inspect("oom");
    ASSERT_FALSE(info.is_null());
    const int pid = info["State"]["Pid"].get<int>();
    ASSERT_GT(pid, 0);
    std::ifstream adj("/proc/" + std::to_string(pid) + "/oom_score_adj");
    std::string host_view;
    adj >> host_view;
    EXPECT_EQ(host_view, "300") << "the host sees the container's process's adjustment";
}

STEP_TEST(Security, BadUlimitsAreRefusedBeforeAnythingIsCreated,
          "--ulimit with an unknown name, a soft limit above the hard one or no number, and --oom-score-adj out "
          "of -1000..1000, are refused with 125 naming the value; nothing is created") {
    for (const auto& flags : std::vector<std::vector<std::string>>{{"--ulimit", "bogus=1"},
                                                                   {"--ulimit", "nofile=2048:1024"},
                                                                   {"--ulimit", "nofile=lots"},
                                                                   {"--oom-score-adj", "2000"}}) {
        const Result r = probe(flags, {"rlimits"});
        EXPECT_EQ(r.status, 125) << flags[1] << r;
        EXPECT_NE(r.err.find(flags[1]), std::string::npos) << "the message names the value" << r;
        EXPECT_EQ(value(r.out, "nofile"), "") << r;
    }
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
}

// --- the device cgroup ------------------------------------------------------------------

STEP_TEST(Security, ABlockDeviceCanBeMadeButNotOpened,
          "root inside keeps CAP_MKNOD (docker's default) and makes /dev/sda (block 8:0), but the device cgroup "
          "refuses to open it (EPERM) — also with --cap-add MKNOD — while /dev/null works; on cgroup v1 the "
          "container's devices.list holds docker's allow-list, on v2 an eBPF program enforces the same") {
    for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--cap-add", "MKNOD"}}) {
        std::vector<std::string> args = {"run", "--network", "none"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--", "sh", "-c",
                                 "lab-probe try-mknod-block /dev/sda; lab-probe read /dev/sda; lab-probe read /dev/null"});
        const Result r = nsrun(args);
        ASSERT_EQ(r.status, 0) << r;
        EXPECT_EQ(values(r.out, "ok"), (std::vector<std::string>{"1", "0", "1"})) << "mknod ok, open refused" << r;
        EXPECT_EQ(value(r.out, "errno"), "EPERM") << r;
    }
    const std::string id = detach({"--name", "dev", "--network", "none", "--", "sleep", "100"});
    std::string list;
    for (const auto& dir : cgroups_of(id)) {
        if (fs::exists(dir + "/devices.list")) {
            list = host_file(dir + "/devices.list");
        }
    }
    if (fs::exists("/sys/fs/cgroup/devices")) { // v1: the host's view of the rules
        EXPECT_NE(list.find("c 1:3 rwm"), std::string::npos) << list;
        EXPECT_NE(list.find("b *:* m"), std::string::npos) << list;
        EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;
    }
}

STEP_TEST(Security, ADeviceGivenWithDeviceIsUsableAndOnlyThatOne,
          "--device /dev/fuse makes the node in the container's /dev (char 10:229, the host's mode) and the device "
          "cgroup lets it be opened read-write; /dev/loop-control (char 10:237), made inside with mknod as root with "
          "CAP_MKNOD, is still refused (EPERM); --device /dev/fuse:/dev/f:r is opened read-only but not for "
          "writing. The same black box as config.json's linux.devices: the node and its allow rule") {
    struct stat host_node {};
    ASSERT_EQ(::stat("/dev/fuse", &host_node), 0) << "this test needs the host's /dev/fuse (modprobe fuse)";
    std::ostringstream host_mode;
    host_mode << std::oct << (host_node.st_mode & 07777); // 666 with udev's rule, 600 on a bare devtmpfs
    const Result r = nsrun({"run", "--network", "none", "--device", "/dev/fuse", "--", "sh", "-c",
                            "stat -c 'node=%F %t:%T %a' /dev/fuse; lab-probe open /dev/fuse; "
                            "mknod /dev/lc c 10 237 && echo made=1; lab-probe open /dev/lc r"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "node"), "character special file a:e5 " + host_mode.str())
        << "made inside, 10:229 in hex, the host's mode" << r;
    EXPECT_EQ(value(r.out, "made"), "1") << "CAP_MKNOD and the cgroup's mknod rule let root make any node" << r;
    EXPECT_EQ(values(r.out, "ok"), (std::vector<std::string>{"1", "0"})) << "the given node opens, the other not" << r;
    EXPECT_EQ(value(r.out, "errno"), "EPERM") << "refused by the device cgroup" << r;

    const Result readonly = nsrun({"run", "--network", "none", "--device", "/dev/fuse:/dev/f:r", "--", "sh", "-c",
                                   "lab-probe open /dev/f r; lab-probe open /dev/f w"});
    ASSERT_EQ(readonly.status, 0) << readonly;
    EXPECT_EQ(values(readonly.out, "ok"), (std::vector<std::string>{"1", "0"})) << ":r allows reading only" << readonly;
    EXPECT_EQ(value(readonly.out, "errno"), "EPERM") << readonly;
}

STEP_TEST(Security, ADeviceGivenUnderAnotherNameWorksInAUserNamespace,
          "with --userns mknod of a device is refused by the kernel, so --device HOST:CONTAINER bind-mounts the "
          "host's node onto an empty file at CONTAINER: /dev/null given as /dev/mynull is written and read inside, "
          "a 0666 node 10:229 (fuse's numbers) that the test made on the host, given as /dev/myfuse, opens read-write "
          "(the device cgroup's allow rule kept; the bound node keeps the host's mode, which the mapped root must be "
          "allowed), HOST:/dev/f:r opens read-only but not for writing (EPERM); on the host nothing is named "
          "/dev/mynull or /dev/myfuse, its nodes are unchanged and nothing is left mounted") {
    struct stat fuse_before {};
    struct stat null_before {};
    ASSERT_EQ(::stat("/dev/fuse", &fuse_before), 0) << "this test needs the fuse driver (modprobe fuse)";
    ASSERT_EQ(::stat("/dev/null", &null_before), 0);
    // The host's /dev/fuse is 0600 without udev (a bare devtmpfs): the test's
    // own node, on a tmpfs of the throwaway host that allows device nodes.
    const Result made = host().sh("mkdir -p /run/lab-devs && mount -t tmpfs -o mode=755,size=64k lab-devs "
                                  "/run/lab-devs && mknod -m 666 /run/lab-devs/fuse c 10 229");
    ASSERT_EQ(made.status, 0) << made;
    const std::string node = "/run/lab-devs/fuse";
    const auto host_before = snapshot();
    const Result r = nsrun({"run", "--userns", "--network", "none", "--device", "/dev/null:/dev/mynull", "--device",
                            node + ":/dev/myfuse", "--", "sh", "-c",
                            "echo hi > /dev/mynull && echo wrote=1; echo read=$(cat /dev/mynull | wc -c); "
                            "stat -c 'node=%F %t:%T' /dev/mynull /dev/myfuse; lab-probe open /dev/myfuse; "
                            "mknod /dev/lc c 10 237 || echo mknod=refused"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "wrote"), "1") << r;
    EXPECT_EQ(value(r.out, "read"), "0") << "/dev/null reads nothing" << r;
    EXPECT_EQ(values(r.out, "node"), (std::vector<std::string>{"character special file 1:3",
                                                               "character special file a:e5"}))
        << "the host's nodes, at the container's names" << r;
    EXPECT_EQ(value(r.out, "ok"), "1") << "the device cgroup allows the node it was given" << r;
    EXPECT_EQ(value(r.out, "mknod"), "refused") << "a user namespace makes no device node" << r;

    const Result readonly = nsrun({"run", "--userns", "--network", "none", "--device", node + ":/dev/f:r", "--",
                                   "sh", "-c", "lab-probe open /dev/f r; lab-probe open /dev/f w"});
    ASSERT_EQ(readonly.status, 0) << readonly;
    EXPECT_EQ(values(readonly.out, "ok"), (std::vector<std::string>{"1", "0"})) << ":r allows reading only" << readonly;
    EXPECT_EQ(value(readonly.out, "errno"), "EPERM") << "refused by the device cgroup" << readonly;

    EXPECT_FALSE(fs::exists(fs::symlink_status("/dev/mynull"))) << "made on the host";
    EXPECT_FALSE(fs::exists(fs::symlink_status("/dev/myfuse"))) << "made on the host";
    struct stat fuse_after {};
    struct stat null_after {};
    ASSERT_EQ(::stat("/dev/fuse", &fuse_after), 0);
    ASSERT_EQ(::stat("/dev/null", &null_after), 0);
    for (const auto& [before, after] : {std::pair{fuse_before, fuse_after}, std::pair{null_before, null_after}}) {
        EXPECT_EQ(after.st_mode, before.st_mode);
        EXPECT_EQ(after.st_rdev, before.st_rdev);
        EXPECT_EQ(after.st_uid, before.st_uid);
        EXPECT_EQ(after.st_gid, before.st_gid);
    }
    EXPECT_EQ(snapshot().mounts, host_before.mounts) << "nothing left mounted on the host";
    EXPECT_TRUE(state_ids().empty()) << "no record left";
}

STEP_TEST(Security, BadDeviceFlagsAreRefusedBeforeAnythingIsCreated,
          "--device of a path that is not a device, a missing one, a relative container path or permissions other "
          "than a subset of rwm: 125 naming the value, nothing created") {
    for (const std::string flag : {"/etc/hostname", "/dev/nope", "/dev/fuse:dev/f", "/dev/fuse:/dev/f:rwx",
                                   "/dev/fuse:/dev/f:rr"}) {
        const Result r = nsrun({"run", "--network", "none", "--device", flag, "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 125) << flag << r;
        EXPECT_NE(r.err.find("--device " + flag), std::string::npos) << "the message names it" << r;
    }
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
}

STEP_TEST(Security, ApparmorAndSelinuxOptionsAreRefusedNotIgnored,
          "nsrun sets no AppArmor profile or SELinux label: --security-opt apparmor=PROFILE or label=… is refused "
          "with 125 (COMMAND would not run confined as asked); apparmor=unconfined and label=disable, which ask for "
          "what nsrun does, are accepted") {
    for (const std::string opt : {"apparmor=docker-default", "label=type:container_t", "label:level:s0"}) {
        const Result r = nsrun({"run", "--network", "none", "--security-opt", opt, "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 125) << opt << r;
        EXPECT_NE(r.err.find("sets no AppArmor profile or SELinux label"), std::string::npos) << r;
    }
    EXPECT_TRUE(state_ids().empty()) << "nothing may be created";
    for (const std::string opt : {"apparmor=unconfined", "label=disable"}) {
        const Result r = nsrun({"run", "--network", "none", "--security-opt", opt, "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 0) << opt << r;
        EXPECT_EQ(value(r.out, "pid"), "1") << r;
    }
}

// --- published ports --------------------------------------------------------------------

/// With the fixture's outside namespace (another machine on the throwaway host's link).
class SecurityNet : public NsrunTest {
protected:
    [[nodiscard]] bool wants_outside() const override { return true; }
};

STEP_TEST(SecurityNet, ALoopbackPublishIsReachableOnlyOnLoopback,
          "-p 127.0.0.1:8089:80 is reached at the host's 127.0.0.1 only: not at the host's own address (from the "
          "host or another machine), not from a neighbour container at the bridge's gateway; route_localnet is set "
          "on the bridge alone, never on `all` (CVE-2020-8558)") {
    detach({"--name", "web", "-p", "127.0.0.1:8089:80", "--", "httpd", "-f", "-p", "80", "-h", "/srv/www"});
    Result local;
    for (int i = 0; i < 50 && value(local.out, "status") != "200"; ++i) {
        local = host().exec({"lab-probe", "http-get", "127.0.0.1", "8089", "/"});
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(value(local.out, "status"), "200") << "the host reaches it on loopback" << local;
    const Result other = host().exec({"lab-probe", "http-get", NetLab::host_address, "8089", "/"}, 10s);
    EXPECT_NE(value(other.out, "status"), "200") << "not at the host's other address" << other;
    const Result remote = outside().exec({"lab-probe", "http-get", NetLab::host_address, "8089", "/"}, 10s);
    EXPECT_NE(value(remote.out, "status"), "200") << "not from another machine" << remote;
    const Result net = nsrun({"run", "--", "lab-probe", "net"});
    const std::string gateway = probe_gateway(net.out);
    ASSERT_FALSE(gateway.empty()) << net;
    const Result neighbour = nsrun({"run", "--", "lab-probe", "http-get", gateway, "8089", "/"});
    EXPECT_NE(value(neighbour.out, "status"), "200") << "not from a neighbour at the gateway" << neighbour;
    EXPECT_EQ(first_line(host().exec({"cat", "/proc/sys/net/ipv4/conf/all/route_localnet"}).out), "0");
}

// --- the runtime is no way in ----------------------------------------------------

STEP_TEST(Security, COMMANDHoldsOnlyItsThreeStandardDescriptors,
          "none of the runtime's descriptors (state locks, sockets, host directories) reaches COMMAND: "
          "/proc/self/fd lists 0, 1 and 2 only, with -d, -v and a bridge too") {
    const Result r = nsrun({"run", "--network", "none", "--", "lab-probe", "fds"});
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(values(r.out, "fd").size(), 3u) << r;
    TempDir data;
    const std::string id = detach({"--name", "fds", "-v", data.path() + ":/data", "--", "sh", "-c",
                                   "lab-probe fds; sleep 100"});
    Result logs;
    for (int i = 0; i < 50 && values(logs.out, "fd").size() < 3; ++i) {
        logs = nsrun({"logs", "fds"});
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(values(logs.out, "fd").size(), 3u) << logs;
}

STEP_TEST(Security, AWorkingDirectoryThroughProcSelfFdIsRefused,
          "-w /proc/self/fd/N (CVE-2024-21626: runc leaked a host directory descriptor and a working directory "
          "through it landed on the host) never starts COMMAND outside the container's root: 125, or a "
          "directory inside") {
    for (int fd = 3; fd <= 12; ++fd) {
        const Result r = nsrun({"run", "--network", "none", "-w", "/proc/self/fd/" + std::to_string(fd), "--",
                                "lab-probe", "cwd"});
        if (r.status == 0) {
            EXPECT_TRUE(value(r.out, "cwd").starts_with("/")) << r;
        } else {
            EXPECT_EQ(r.status, 125) << r;
        }
    }
}

STEP_TEST(Security, TheHostEnvironmentDoesNotLeak,
          "COMMAND's environment is the default one plus -e/--env-file only: a variable of the runtime's own "
          "environment never reaches it unless named with -e KEY") {
    ::setenv("LAB_HOST_SECRET", "leaked", 1); // the runtime inherits it from this test
    const Result r = nsrun({"run", "--network", "none", "--", "env"}, 30s);
    const Result asked = nsrun({"run", "--network", "none", "-e", "LAB_HOST_SECRET", "--", "env"}, 30s);
    ::unsetenv("LAB_HOST_SECRET");
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(r.out.find("leaked"), std::string::npos) << r;
    EXPECT_NE(asked.out.find("LAB_HOST_SECRET=leaked"), std::string::npos) << "-e KEY copies it on request" << asked;
    for (const auto& line : {"PATH=", "HOSTNAME=", "HOME="}) {
        EXPECT_NE(r.out.find(line), std::string::npos) << line << r;
    }
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        const std::string key = line.substr(0, line.find('='));
        EXPECT_TRUE(key == "PATH" || key == "HOSTNAME" || key == "HOME" || key == "PWD" || key == "SHLVL")
            << "unexpected variable " << line << r;
    }
}

} // namespace
} // namespace lab
