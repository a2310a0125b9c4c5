// Hardening: every default of `nsrun run` proved by the attack it stops,
// tried from inside the container — it fails, and the host is unchanged —
// and every relaxation (--cap-add, --cap-drop, --privileged,
// --security-opt) shown to do what it says.
#include "fixture.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <sys/stat.h>

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
