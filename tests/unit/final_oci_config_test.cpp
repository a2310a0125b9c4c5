// Unit tests of config.json → ContainerSpec (final/oci_config.cpp): configs
// shaped like those runc, podman and containerd write, and every refusal,
// each checked for the JSON path of the field it names.  Pure logic: no
// container is made.
#include "bundle_mounts.hpp"
#include "oci_config.hpp"

#include <nsrun/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sys/mount.h>
#include <unistd.h>

using json = nlohmann::json;
using ::testing::HasSubstr;

namespace {

json read_fixture(const std::string& name) {
    std::ifstream in(std::string(NSRUN_OCI_FIXTURES) + "/" + name);
    EXPECT_TRUE(in) << name;
    return json::parse(in);
}

/// The smallest config nsrun accepts; each error case breaks one field of it.
json base_config() {
    return json::parse(R"({
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
                    "env": ["PATH=/bin"]},
        "root": {"path": "rootfs"},
        "hostname": "box",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"},
                                 {"type": "ipc"}, {"type": "network"}]}
    })");
}

/// The message spec_from_oci_config refuses `config` with ("" if it accepts it).
std::string refusal(const json& config) {
    try {
        (void)spec_from_oci_config(config, "/bundles/b");
    } catch (const nsrun::Error& e) {
        EXPECT_EQ(e.exit_status(), 125);
        EXPECT_FALSE(e.hint().empty()) << e.what() << ": every refusal hints at the fix";
        return e.what();
    }
    return "";
}

struct Case {
    const char* expected; ///< in the message: the field's path, and the problem
    std::function<void(json&)> change;
};

const Namespace* find_ns(const ContainerSpec& spec, const std::string& type) { return spec.linux.find(type); }

} // namespace

TEST(OciConfig, TheSmallestConfigCompiles) {
    const ContainerSpec spec = spec_from_oci_config(base_config(), "/bundles/b");
    EXPECT_EQ(spec.root.path, "/bundles/b/rootfs") << "root.path is relative to the bundle";
    EXPECT_EQ(spec.process.args, std::vector<std::string>{"sh"});
    EXPECT_EQ(spec.process.env, std::vector<std::string>{"PATH=/bin"}) << "no defaults added to a config's env";
    EXPECT_EQ(spec.hostname, "box");
    EXPECT_EQ(spec.nsrun.bundle, "/bundles/b");
    EXPECT_EQ(spec.nsrun.network, NetworkMode::none) << "a new network namespace: loopback only, no veth";
    EXPECT_FALSE(spec.nsrun.auto_remove);
    EXPECT_FALSE(spec.linux.seccomp) << "no linux.seccomp: unconfined, as in runc";
    EXPECT_TRUE(spec.process.capabilities.bounding.empty()) << "no capabilities unless the config lists them";
}

TEST(OciConfig, RuncSpecOutputCompiles) {
    // tests/unit/oci/runc-1.1.5-spec.json is what `runc spec` wrote.
    const ContainerSpec spec = spec_from_oci_config(read_fixture("runc-1.1.5-spec.json"), "/srv/bundle/");
    EXPECT_EQ(spec.oci_version, "1.0.2-dev");
    EXPECT_EQ(spec.root.path, "/srv/bundle/rootfs");
    EXPECT_TRUE(spec.root.readonly);
    EXPECT_TRUE(spec.process.terminal);
    EXPECT_EQ(spec.hostname, "runc");
    EXPECT_EQ(spec.process.capabilities.ambient,
              (std::vector<std::string>{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}));
    EXPECT_TRUE(spec.process.capabilities.inheritable.empty());
    ASSERT_EQ(spec.process.rlimits.size(), 1u);
    EXPECT_EQ(spec.process.rlimits[0], (Rlimit{"RLIMIT_NOFILE", 1024, 1024}));
    EXPECT_TRUE(spec.process.no_new_privileges);
    ASSERT_EQ(spec.mounts.size(), 7u);
    std::vector<std::string> types;
    for (const auto& m : spec.mounts) {
        types.push_back(m.type);
    }
    EXPECT_EQ(types, (std::vector<std::string>{"proc", "tmpfs", "devpts", "tmpfs", "mqueue", "sysfs", "cgroup"}));
    EXPECT_EQ(spec.mounts[2].options.back(), "gid=5");
    EXPECT_TRUE(spec.mounts[5].readonly());
    ASSERT_EQ(spec.linux.resources.devices.size(), 1u);
    EXPECT_EQ(spec.linux.resources.devices[0], (DeviceRule{false, "a", std::nullopt, std::nullopt, "rwm"}));
    EXPECT_EQ(spec.linux.namespaces.size(), 5u);
    EXPECT_FALSE(spec.linux.has("user"));
    EXPECT_EQ(spec.linux.masked_paths.size(), 10u);
    EXPECT_EQ(spec.linux.readonly_paths.size(), 5u);
    EXPECT_EQ(spec.linux.cgroups_path, "") << "none given: the runtime picks one";
}

TEST(OciConfig, RuncRootlessSpecOutputCompiles) {
    const ContainerSpec spec = spec_from_oci_config(read_fixture("runc-1.1.5-spec-rootless.json"), "/srv/bundle");
    ASSERT_NE(find_ns(spec, "user"), nullptr);
    EXPECT_EQ(spec.linux.uid_mappings, (std::vector<IdRange>{{0, 0, 1}}));
    EXPECT_EQ(spec.linux.gid_mappings, (std::vector<IdRange>{{0, 0, 1}}));
    EXPECT_EQ(spec.nsrun.network, NetworkMode::host) << "runc's rootless spec has no network namespace";
    const Mount& sys = spec.mounts[5];
    EXPECT_EQ(sys.destination, "/sys");
    EXPECT_EQ(sys.type, "bind") << "type \"none\" with rbind is a bind mount";
    EXPECT_EQ(sys.source, "/sys");
    EXPECT_TRUE(sys.readonly());
    EXPECT_TRUE(spec.linux.resources.devices.empty());
}

TEST(OciConfig, OurOwnSpecOutputCompiles) {
    for (const bool rootless : {false, true}) {
        SCOPED_TRACE(rootless ? "nsrun spec --rootless" : "nsrun spec");
        const json config = default_oci_config(rootless);
        EXPECT_EQ(config.at("process").at("args"), json({"sh"}));
        EXPECT_EQ(config.at("root").at("path"), "rootfs");
        const ContainerSpec spec = spec_from_oci_config(config, "/b");
        EXPECT_EQ(spec.process.capabilities.bounding.size(), 14u) << "docker's default set";
        EXPECT_EQ(spec.mounts.size(), 7u);
        EXPECT_FALSE(spec.linux.masked_paths.empty());
        EXPECT_EQ(spec.linux.has("user"), rootless);
        if (rootless) {
            EXPECT_EQ(spec.linux.uid_mappings.at(0), (IdRange{0, static_cast<std::uint32_t>(::geteuid()), 1}));
            EXPECT_EQ(spec.linux.gid_mappings.at(0), (IdRange{0, static_cast<std::uint32_t>(::getegid()), 1}));
        }
    }
}

TEST(OciConfig, PodmanStyleConfigCompiles) {
    // The shape podman (cgroupfs manager) hands its runtime: binds from its
    // userdata directory, a network namespace it made, a pids limit, big
    // rlimits, a umask, supplementary groups, sysctls, annotations.
    const json config = json::parse(R"({
      "ociVersion": "1.0.2-dev",
      "process": {
        "terminal": false,
        "user": {"uid": 0, "gid": 0, "umask": 18, "additionalGids": [0, 1, 2, 3, 4, 6, 10]},
        "args": ["httpd", "-f", "-p", "80"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "container=podman",
                "HOSTNAME=3f2a9c01b7e4"],
        "cwd": "/",
        "capabilities": {
          "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                       "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"],
          "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"],
          "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                        "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"]
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
                    {"type": "RLIMIT_NPROC", "hard": 4194304, "soft": 4194304}],
        "oomScoreAdj": 0
      },
      "root": {"path": "/var/lib/containers/storage/overlay/abc/merged"},
      "hostname": "3f2a9c01b7e4",
      "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/etc/hosts", "type": "bind",
         "source": "/run/containers/storage/overlay-containers/abc/userdata/hosts",
         "options": ["bind", "rprivate"]},
        {"destination": "/dev/shm", "type": "bind",
         "source": "/var/lib/containers/storage/overlay-containers/abc/userdata/shm",
         "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]},
        {"destination": "/run/.containerenv", "type": "bind",
         "source": "/run/containers/storage/overlay-containers/abc/userdata/.containerenv",
         "options": ["bind", "rprivate"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]}
      ],
      "annotations": {"io.container.manager": "libpod", "org.opencontainers.image.stopSignal": "15",
                      "io.podman.annotations.autoremove": "FALSE"},
      "linux": {
        "sysctl": {"net.ipv4.ping_group_range": "0 0"},
        "resources": {
          "devices": [{"allow": false, "access": "rwm"}],
          "memory": {"limit": 134217728, "swap": 268435456},
          "cpu": {"quota": 50000, "period": 100000, "shares": 1024},
          "pids": {"limit": 2048}
        },
        "cgroupsPath": "/libpod_parent/libpod-abc",
        "namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/netns-7e1c2b5a"}, {"type": "ipc"},
                       {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
        "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                    "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                                 {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                                  "args": [{"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
                                 {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]},
        "maskedPaths": ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
        "readonlyPaths": ["/proc/bus", "/proc/sys"]
      }
    })");
    const ContainerSpec spec = spec_from_oci_config(config, "/var/lib/containers/storage/overlay-containers/abc/userdata");
    EXPECT_EQ(spec.root.path, "/var/lib/containers/storage/overlay/abc/merged") << "an absolute root.path is kept";
    EXPECT_EQ(spec.process.user.umask, 022u);
    EXPECT_EQ(spec.process.user.additional_gids.size(), 7u);
    EXPECT_EQ(spec.process.rlimits.at(1), (Rlimit{"RLIMIT_NPROC", 4194304, 4194304}));
    EXPECT_EQ(spec.process.oom_score_adj, 0);
    EXPECT_EQ(spec.process.capabilities.bounding.size(), 11u);
    const Namespace* net = find_ns(spec, "network");
    ASSERT_NE(net, nullptr);
    EXPECT_EQ(net->path, "/run/netns/netns-7e1c2b5a") << "podman made the network namespace: joined";
    EXPECT_EQ(spec.clone_flags() & CLONE_NEWNET, 0);
    ASSERT_NE(find_ns(spec, "cgroup"), nullptr) << "listed: a new cgroup namespace";
    EXPECT_EQ(spec.clone_flags() & CLONE_NEWCGROUP, 0)
        << "not at clone: the child unshares it once it is in its cgroup, so that cgroup is its root";
    EXPECT_EQ(spec.nsrun.network, NetworkMode::none) << "no veth for a namespace the caller made";
    EXPECT_EQ(spec.linux.cgroups_path, "/libpod_parent/libpod-abc");
    EXPECT_EQ(spec.linux.resources.memory, 134217728ULL);
    EXPECT_EQ(spec.linux.resources.memory_swap, 268435456ULL);
    EXPECT_DOUBLE_EQ(spec.linux.resources.cpus.value(), 0.5);
    EXPECT_EQ(spec.linux.resources.cpu_weight, 39u) << "shares 1024 is weight 39, as runc converts it";
    EXPECT_EQ(spec.linux.resources.pids_limit, 2048u);
    EXPECT_EQ(spec.linux.sysctl.at("net.ipv4.ping_group_range"), "0 0");
    EXPECT_EQ(spec.annotations.at("io.container.manager"), "libpod");
    ASSERT_TRUE(spec.linux.seccomp);
    EXPECT_EQ(spec.linux.seccomp->default_errno_ret, 38u);
    EXPECT_EQ(spec.linux.seccomp->syscalls.at(1).args.at(0).op, "SCMP_CMP_EQ");
    EXPECT_EQ(spec.linux.seccomp->syscalls.at(2).errno_ret, 1u);
    const Mount& hosts = spec.mounts.at(5);
    EXPECT_EQ(hosts.type, "bind");
    EXPECT_EQ(hosts.source, "/run/containers/storage/overlay-containers/abc/userdata/hosts");
    EXPECT_EQ(spec.mounts.at(8).type, "cgroup");
}

TEST(OciConfig, ContainerdStyleConfigCompiles) {
    // The shape of containerd's default spec (ctr run, and the CRI plugin
    // with a CNI network namespace): cgroupsPath /NAMESPACE/ID, a device
    // allowlist after deny-all, /run as a tmpfs.
    const json config = json::parse(R"({
      "ociVersion": "1.1.0",
      "process": {
        "user": {"uid": 0, "gid": 0, "additionalGids": [0, 10]},
        "args": ["sleep", "1000"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "cwd": "/",
        "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN", "CAP_KILL"],
                         "permitted": ["CAP_CHOWN", "CAP_KILL"]},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": true,
        "oomScoreAdj": -998
      },
      "root": {"path": "rootfs"},
      "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/etc/resolv.conf", "type": "bind", "source": "/var/lib/containerd/sandboxes/s1/resolv.conf",
         "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}
      ],
      "linux": {
        "resources": {
          "devices": [{"allow": false, "access": "rwm"},
                      {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                      {"allow": true, "type": "c", "major": 136, "access": "rwm"},
                      {"allow": true, "type": "c", "major": 5, "minor": -1, "access": "rwm"}],
          "memory": {"limit": -1},
          "pids": {"limit": 0}
        },
        "cgroupsPath": "/default/redis",
        "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                       {"type": "network", "path": "/var/run/netns/cni-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}],
        "maskedPaths": ["/proc/acpi", "/proc/kcore"],
        "readonlyPaths": ["/proc/sys"]
      }
    })");
    const ContainerSpec spec = spec_from_oci_config(config, "/run/containerd/io.containerd.runtime.v2.task/default/redis");
    EXPECT_EQ(spec.root.path, "/run/containerd/io.containerd.runtime.v2.task/default/redis/rootfs");
    EXPECT_EQ(spec.hostname, "") << "no hostname: the UTS namespace keeps the host's copy";
    EXPECT_EQ(spec.linux.cgroups_path, "/default/redis");
    EXPECT_EQ(find_ns(spec, "network")->path, "/var/run/netns/cni-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
    EXPECT_EQ(spec.process.oom_score_adj, -998);
    ASSERT_EQ(spec.linux.resources.devices.size(), 4u);
    EXPECT_EQ(spec.linux.resources.devices[1], (DeviceRule{true, "c", 1, 3, "rwm"}));
    EXPECT_EQ(spec.linux.resources.devices[2], (DeviceRule{true, "c", 136, std::nullopt, "rwm"})) << "no minor: any";
    EXPECT_EQ(spec.linux.resources.devices[3], (DeviceRule{true, "c", 5, std::nullopt, "rwm"})) << "-1: any";
    EXPECT_FALSE(spec.linux.resources.memory) << "-1: no limit";
    EXPECT_FALSE(spec.linux.resources.pids_limit) << "0: no limit";
    EXPECT_EQ(spec.mounts.at(6).destination, "/run");
    EXPECT_EQ(spec.mounts.at(7).options.front(), "rbind");
    EXPECT_TRUE(spec.mounts.at(7).readonly());
}

TEST(OciConfig, SpecFromConfigSurvivesTheStateFile) {
    // What create compiled is what the state file stores and start reads.
    json config = read_fixture("runc-1.1.5-spec.json");
    config["hooks"] = {{"prestart", {{{"path", "/bin/true"}, {"timeout", 3}}}},
                       {"poststop", {{{"path", "/bin/echo"}, {"args", {"echo", "bye"}}, {"env", {"A=1"}}}}}};
    config["annotations"] = {{"a", "b"}};
    config["linux"]["sysctl"] = {{"kernel.shmmax", "65536"}};
    config["linux"]["rootfsPropagation"] = "rslave";
    config["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 438}}};
    config["process"]["consoleSize"] = {{"height", 40}, {"width", 120}};
    const ContainerSpec spec = spec_from_oci_config(config, "/b");
    EXPECT_EQ(spec.hooks.prestart.at(0).timeout, 3);
    EXPECT_EQ(spec.hooks.poststop.at(0).args, (std::vector<std::string>{"echo", "bye"}));
    EXPECT_EQ(spec.linux.devices.at(0).file_mode, 0666u);
    EXPECT_EQ(spec.process.console_size, (ConsoleSize{40, 120}));
    const ContainerSpec back = json::parse(json(spec).dump()).get<ContainerSpec>();
    EXPECT_EQ(back, spec);
}

TEST(OciConfig, UnknownPropertiesAreIgnoredAsTheSpecRequires) {
    json config = base_config();
    config["org.example.future"] = {{"x", 1}};
    config["process"]["somethingNew"] = true;
    config["linux"]["resources"]["memory"] = {{"checkBeforeUpdate", false}, {"useHierarchy", false}};
    config["process"]["apparmorProfile"] = ""; // empty: asks for nothing
    config["linux"]["mountLabel"] = "";
    config["linux"]["personality"] = {{"domain", "LINUX"}};
    EXPECT_EQ(refusal(config), "");
}

TEST(OciConfig, EveryRefusalNamesItsField) {
    const std::vector<Case> cases = {
        {"config.json: ociVersion: is required", [](json& c) { c.erase("ociVersion"); }},
        {"config.json: ociVersion: \"2.0.0\" is not a version 1 config", [](json& c) { c["ociVersion"] = "2.0.0"; }},
        {"config.json: ociVersion: is a number, a string was expected", [](json& c) { c["ociVersion"] = 1; }},
        {"config.json: process: is required", [](json& c) { c.erase("process"); }},
        {"config.json: process: is an array, an object was expected", [](json& c) { c["process"] = json::array(); }},
        {"config.json: process.args: is required", [](json& c) { c["process"].erase("args"); }},
        {"config.json: process.args: names no program", [](json& c) { c["process"]["args"] = json::array(); }},
        {"config.json: process.args: is a string, an array was expected", [](json& c) { c["process"]["args"] = "sh"; }},
        {"config.json: process.args[1]: is a number", [](json& c) { c["process"]["args"] = {"sh", 1}; }},
        {"config.json: process.cwd: \"srv\" is not an absolute path", [](json& c) { c["process"]["cwd"] = "srv"; }},
        {"config.json: process.cwd: is required", [](json& c) { c["process"].erase("cwd"); }},
        {"config.json: process.env[1]: \"HOME\" is not KEY=value",
         [](json& c) { c["process"]["env"] = {"A=1", "HOME"}; }},
        {"config.json: process.terminal: is a string, a boolean was expected",
         [](json& c) { c["process"]["terminal"] = "yes"; }},
        {"config.json: process.consoleSize.width: is required",
         [](json& c) { c["process"]["consoleSize"] = {{"height", 24}}; }},
        {"config.json: process.user: is required", [](json& c) { c["process"].erase("user"); }},
        {"config.json: process.user.uid: is a number", [](json& c) { c["process"]["user"]["uid"] = -1; }},
        {"config.json: process.user.gid: 8589934592 is out of range",
         [](json& c) { c["process"]["user"]["gid"] = 8589934592ULL; }},
        {"config.json: process.user.umask: 1000 (octal) is not a umask",
         [](json& c) { c["process"]["user"]["umask"] = 01000; }},
        {"config.json: process.user.additionalGids[1]: is a string",
         [](json& c) { c["process"]["user"]["additionalGids"] = {1, "wheel"}; }},
        {"config.json: process.user.username: is for Windows",
         [](json& c) { c["process"]["user"]["username"] = "bob"; }},
        {"config.json: process.capabilities.bounding[1]: \"CAP_FLY\" is not a capability",
         [](json& c) { c["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_FLY"}}}; }},
        {"config.json: process.capabilities.ambient: is a string, an array was expected",
         [](json& c) { c["process"]["capabilities"] = {{"ambient", "CAP_CHOWN"}}; }},
        {"config.json: process.rlimits[0].type: \"RLIMIT_SPEED\" is not a resource limit",
         [](json& c) { c["process"]["rlimits"] = {{{"type", "RLIMIT_SPEED"}, {"hard", 1}, {"soft", 1}}}; }},
        {"config.json: process.rlimits[0]: soft 10 is above hard 5",
         [](json& c) { c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 5}, {"soft", 10}}}; }},
        {"config.json: process.rlimits[1].type: RLIMIT_NOFILE is given twice",
         [](json& c) {
             c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 5}, {"soft", 5}},
                                        {{"type", "RLIMIT_NOFILE"}, {"hard", 6}, {"soft", 6}}};
         }},
        {"config.json: process.rlimits[0].hard: is required",
         [](json& c) { c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 5}}}; }},
        {"config.json: process.oomScoreAdj: 1001 is out of range", [](json& c) { c["process"]["oomScoreAdj"] = 1001; }},
        {"config.json: process.noNewPrivileges: is a string", [](json& c) { c["process"]["noNewPrivileges"] = "true"; }},
        {"config.json: process.apparmorProfile: nsrun applies no AppArmor profile",
         [](json& c) { c["process"]["apparmorProfile"] = "containers-default-0.50.1"; }},
        {"config.json: process.selinuxLabel: nsrun sets no SELinux label",
         [](json& c) { c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"; }},
        {"config.json: process.scheduler: nsrun does not set a scheduling policy",
         [](json& c) { c["process"]["scheduler"] = {{"policy", "SCHED_FIFO"}}; }},
        {"config.json: process.ioPriority: nsrun does not set an I/O priority",
         [](json& c) { c["process"]["ioPriority"] = {{"class", "IOPRIO_CLASS_RT"}}; }},
        {"config.json: process.execCPUAffinity: nsrun does not set a CPU affinity",
         [](json& c) { c["process"]["execCPUAffinity"] = {{"initial", "0"}}; }},
        {"config.json: process.commandLine: is for Windows", [](json& c) { c["process"]["commandLine"] = "sh"; }},
        {"config.json: root: is required", [](json& c) { c.erase("root"); }},
        {"config.json: root.path: is empty", [](json& c) { c["root"]["path"] = ""; }},
        {"config.json: root.path: is a number", [](json& c) { c["root"]["path"] = 7; }},
        {"config.json: root.readonly: is a string", [](json& c) { c["root"]["readonly"] = "yes"; }},
        {"config.json: hostname: needs a new UTS namespace",
         [](json& c) { c["linux"]["namespaces"] = {{{"type", "mount"}}}; }},
        {"config.json: hostname: needs a new UTS namespace",
         [](json& c) { c["linux"]["namespaces"][2]["path"] = "/proc/1/ns/uts"; }},
        {"config.json: hostname: the hostname is 65 characters long",
         [](json& c) { c["hostname"] = std::string(65, 'h'); }},
        {"config.json: domainname: setting the NIS domain name is not supported",
         [](json& c) { c["domainname"] = "example.org"; }},
        {"config.json: windows: is for windows containers",
         [](json& c) { c["windows"] = {{"layerFolders", {"C:\\layers"}}}; }},
        {"config.json: mounts: is an object", [](json& c) { c["mounts"] = json::object({{"a", 1}}); }},
        {"config.json: mounts[0].destination: \"proc\" is not an absolute path",
         [](json& c) { c["mounts"][0]["destination"] = "proc"; }},
        {"config.json: mounts[0].destination: is required", [](json& c) { c["mounts"][0].erase("destination"); }},
        {"config.json: mounts[0].type: \"nfs\" mounts are not supported", [](json& c) { c["mounts"][0]["type"] = "nfs"; }},
        {"config.json: mounts[0].type: is missing", [](json& c) { c["mounts"][0].erase("type"); }},
        {"config.json: mounts[0].type: \"proc\" with a bind option",
         [](json& c) { c["mounts"][0]["options"] = {"rbind"}; }},
        {"config.json: mounts[1].source: a bind mount needs a source",
         [](json& c) { c["mounts"].push_back({{"destination", "/data"}, {"type", "bind"}}); }},
        {"config.json: mounts[0].options[1]: \"fast\" is not a mount option nsrun knows",
         [](json& c) { c["mounts"][0]["options"] = {"nosuid", "fast"}; }},
        {"config.json: mounts[1].options[0]: \"tmpcopyup\": copying the image's files into a tmpfs is not supported",
         [](json& c) {
             c["mounts"].push_back(
                 {{"destination", "/run"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"tmpcopyup"}}});
         }},
        {"config.json: mounts[1].options[1]: \"mode=755\" is a filesystem's option; a bind mount takes none",
         [](json& c) {
             c["mounts"].push_back(
                 {{"destination", "/data"}, {"type", "bind"}, {"source", "/srv"}, {"options", {"rbind", "mode=755"}}});
         }},
        {"config.json: mounts[1].options[0]: \"idmap\": idmapped mounts are not supported",
         [](json& c) {
             c["mounts"].push_back({{"destination", "/d"}, {"type", "bind"}, {"source", "/srv"}, {"options", {"idmap"}}});
         }},
        {"config.json: mounts[0].uidMappings: idmapped mounts are not supported",
         [](json& c) { c["mounts"][0]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}}; }},
        {"config.json: hooks.prestart[0].path: \"true\" is not an absolute path",
         [](json& c) { c["hooks"] = {{"prestart", {{{"path", "true"}}}}}; }},
        {"config.json: hooks.poststart[0].timeout: 0 is not a timeout",
         [](json& c) { c["hooks"] = {{"poststart", {{{"path", "/bin/true"}, {"timeout", 0}}}}}; }},
        {"config.json: hooks.poststop[0].env[0]: \"X\" is not KEY=value",
         [](json& c) { c["hooks"] = {{"poststop", {{{"path", "/bin/true"}, {"env", {"X"}}}}}}; }},
        {"config.json: hooks.precreate: is not a hook nsrun runs",
         [](json& c) { c["hooks"] = {{"precreate", {{{"path", "/bin/true"}}}}}; }},
        {"config.json: hooks.createRuntime: is an object", [](json& c) { c["hooks"] = {{"createRuntime", {{"path", "/x"}}}}; }},
        {"config.json: annotations[\"a\"]: is a number", [](json& c) { c["annotations"] = {{"a", 1}}; }},
        {"config.json: linux: is required", [](json& c) { c.erase("linux"); }},
        {"config.json: linux.namespaces[1].type: \"time\" namespaces are not supported",
         [](json& c) { c["linux"]["namespaces"][1]["type"] = "time"; }},
        {"config.json: linux.namespaces[4].type: \"net\" is not a namespace type",
         [](json& c) { c["linux"]["namespaces"][4]["type"] = "net"; }},
        {"config.json: linux.namespaces[5].type: the pid namespace is given twice",
         [](json& c) { c["linux"]["namespaces"].push_back({{"type", "pid"}}); }},
        {"config.json: linux.namespaces[4].path: \"netns/x\" is not an absolute path",
         [](json& c) { c["linux"]["namespaces"][4]["path"] = "netns/x"; }},
        {"config.json: linux.namespaces: has no mount namespace",
         [](json& c) { c["linux"]["namespaces"].erase(1); }},
        {"config.json: linux.uidMappings: mappings need a user namespace",
         [](json& c) {
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
             c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         }},
        {"config.json: linux.gidMappings: a new user namespace needs both uidMappings and gidMappings",
         [](json& c) {
             c["linux"]["namespaces"].push_back({{"type", "user"}});
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         }},
        {"config.json: linux.uidMappings: the user namespace is joined by path",
         [](json& c) {
             c["linux"]["namespaces"].push_back({{"type", "user"}, {"path", "/proc/1/ns/user"}});
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         }},
        {"config.json: linux.uidMappings[0].size: is 0",
         [](json& c) { c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 0}}}; }},
        {"config.json: linux.uidMappings",
         [](json& c) {
             c["linux"]["namespaces"].push_back({{"type", "user"}});
             c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 10}},
                                          {{"containerID", 5}, {"hostID", 5000}, {"size", 10}}}; // overlap inside
             c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
         }},
        {"config.json: linux.resources.devices[2].access: \"rwq\" is not a subset of \"rwm\"",
         [](json& c) {
             c["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}},
                                                   {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}},
                                                   {{"allow", true}, {"type", "c"}, {"major", 1}, {"access", "rwq"}}};
         }},
        {"config.json: linux.resources.devices[0].type: \"x\" is not a device rule type",
         [](json& c) { c["linux"]["resources"]["devices"] = {{{"allow", true}, {"type", "x"}}}; }},
        {"config.json: linux.resources.devices[0].allow: is required",
         [](json& c) { c["linux"]["resources"]["devices"] = {{{"access", "r"}}}; }},
        {"config.json: linux.resources.devices[0].minor: -5 is negative",
         [](json& c) { c["linux"]["resources"]["devices"] = {{{"allow", true}, {"minor", -5}}}; }},
        {"config.json: linux.resources.memory.swap: 1024 is below the limit 4096",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"limit", 4096}, {"swap", 1024}}; }},
        {"config.json: linux.resources.memory.limit: is a string",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"limit", "1g"}}; }},
        {"config.json: linux.resources.memory.reservation: a memory reservation is not supported",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"reservation", 1024}}; }},
        {"config.json: linux.resources.memory.kernel: kernel memory limits",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"kernel", 1024}}; }},
        {"config.json: linux.resources.memory.kernelTCP: kernel TCP memory limits",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"kernelTCP", 1024}}; }},
        {"config.json: linux.resources.memory.swappiness: swappiness is not supported",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"swappiness", 10}}; }},
        {"config.json: linux.resources.memory.disableOOMKiller: the OOM killer cannot be disabled",
         [](json& c) { c["linux"]["resources"]["memory"] = {{"disableOOMKiller", true}}; }},
        {"config.json: linux.resources.cpu.cpus: CPU pinning (cpuset) is not supported",
         [](json& c) { c["linux"]["resources"]["cpu"] = {{"cpus", "0-1"}}; }},
        {"config.json: linux.resources.cpu.mems: memory node pinning",
         [](json& c) { c["linux"]["resources"]["cpu"] = {{"mems", "0"}}; }},
        {"config.json: linux.resources.cpu.realtimeRuntime: real-time",
         [](json& c) { c["linux"]["resources"]["cpu"] = {{"realtimeRuntime", 1000}}; }},
        {"config.json: linux.resources.cpu.realtimePeriod: real-time",
         [](json& c) { c["linux"]["resources"]["cpu"] = {{"realtimePeriod", 1000}}; }},
        {"config.json: linux.resources.cpu.idle: SCHED_IDLE", [](json& c) { c["linux"]["resources"]["cpu"] = {{"idle", 1}}; }},
        {"config.json: linux.resources.cpu.burst: CPU burst", [](json& c) { c["linux"]["resources"]["cpu"] = {{"burst", 5}}; }},
        {"config.json: linux.resources.cpu.quota: is a string",
         [](json& c) { c["linux"]["resources"]["cpu"] = {{"quota", "50%"}}; }},
        {"config.json: linux.resources.blockIO: block I/O limits are not supported",
         [](json& c) { c["linux"]["resources"]["blockIO"] = {{"weight", 10}}; }},
        {"config.json: linux.resources.hugepageLimits: huge page limits",
         [](json& c) { c["linux"]["resources"]["hugepageLimits"] = {{{"pageSize", "2MB"}, {"limit", 1}}}; }},
        {"config.json: linux.resources.network: network class ids",
         [](json& c) { c["linux"]["resources"]["network"] = {{"classID", 1}}; }},
        {"config.json: linux.resources.rdma: RDMA limits",
         [](json& c) { c["linux"]["resources"]["rdma"] = {{"mlx5_1", {{"hcaHandles", 3}}}}; }},
        {"config.json: linux.resources.unified: raw cgroup v2 files",
         [](json& c) { c["linux"]["resources"]["unified"] = {{"memory.high", "1G"}}; }},
        {"config.json: linux.resources.pids.limit: is a string",
         [](json& c) { c["linux"]["resources"]["pids"] = {{"limit", "many"}}; }},
        {"config.json: linux.cgroupsPath: \"machine.slice:libpod:abc\" is systemd's slice:prefix:name form; nsrun has "
         "no --systemd-cgroup",
         [](json& c) { c["linux"]["cgroupsPath"] = "machine.slice:libpod:abc"; }},
        {"config.json: linux.cgroupsPath: \"/a/../../b\" climbs out with ..",
         [](json& c) { c["linux"]["cgroupsPath"] = "/a/../../b"; }},
        {"config.json: linux.sysctl[\"kernel.panic\"]: is not namespaced: writing it would change the host",
         [](json& c) { c["linux"]["sysctl"] = {{"kernel.panic", "1"}}; }},
        {"config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: belongs to the network namespace",
         [](json& c) {
             c["linux"]["namespaces"].erase(4);
             c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
         }},
        {"config.json: linux.sysctl[\"fs.mqueue.msg_max\"]: belongs to the IPC namespace",
         [](json& c) {
             c["linux"]["namespaces"].erase(3);
             c["linux"]["sysctl"] = {{"fs.mqueue.msg_max", "20"}};
         }},
        {"config.json: linux.sysctl[\"kernel.domainname\"]: belongs to the UTS namespace",
         [](json& c) {
             c.erase("hostname");
             c["linux"]["namespaces"].erase(2);
             c["linux"]["sysctl"] = {{"kernel.domainname", "x"}};
         }},
        {"config.json: linux.sysctl[\"net.ipv4.ip forward\"]: is not a sysctl name",
         [](json& c) { c["linux"]["sysctl"] = {{"net.ipv4.ip forward", "1"}}; }},
        {"config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: is a number",
         [](json& c) { c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", 1}}; }},
        {"config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY needs a seccomp agent",
         [](json& c) { c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_NOTIFY"}}; }},
        {"config.json: linux.seccomp.defaultAction: \"ALLOW\" is not a seccomp action",
         [](json& c) { c["linux"]["seccomp"] = {{"defaultAction", "ALLOW"}}; }},
        {"config.json: linux.seccomp.defaultAction: is required",
         [](json& c) { c["linux"]["seccomp"] = {{"syscalls", json::array()}}; }},
        {"config.json: linux.seccomp.syscalls[0].names: is empty",
         [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", json::array()}, {"action", "SCMP_ACT_ERRNO"}}}}};
         }},
        {"config.json: linux.seccomp.syscalls[0].action: is required",
         [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", {{{"names", {"mount"}}}}}};
         }},
        {"config.json: linux.seccomp: ",
         [](json& c) { // libseccomp's own refusal, under the field
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                                      {"syscalls", {{{"names", {"no_such_call"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
         }},
        {"config.json: linux.seccomp: ",
         [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"architectures", {"SCMP_ARCH_Z80"}}};
         }},
        {"config.json: linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index",
         [](json& c) {
             c["linux"]["seccomp"] = {
                 {"defaultAction", "SCMP_ACT_ALLOW"},
                 {"syscalls",
                  {{{"names", {"mount"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 6}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}}}}};
         }},
        {"config.json: linux.seccomp.syscalls[0].args[0].op: \"==\" is not a seccomp operator",
         [](json& c) {
             c["linux"]["seccomp"] = {
                 {"defaultAction", "SCMP_ACT_ALLOW"},
                 {"syscalls",
                  {{{"names", {"mount"}}, {"action", "SCMP_ACT_ERRNO"}, {"args", {{{"index", 0}, {"value", 0}, {"op", "=="}}}}}}}};
         }},
        {"config.json: linux.seccomp.flags: seccomp filter flags are not supported",
         [](json& c) {
             c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"flags", {"SECCOMP_FILTER_FLAG_LOG"}}};
         }},
        {"config.json: linux.seccomp.listenerPath: seccomp agents",
         [](json& c) { c["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}, {"listenerPath", "/run/agent.sock"}}; }},
        {"config.json: linux.maskedPaths[1]: \"proc/kcore\" is not an absolute path",
         [](json& c) { c["linux"]["maskedPaths"] = {"/proc/keys", "proc/kcore"}; }},
        {"config.json: linux.readonlyPaths[0]: \"sys\" is not an absolute path",
         [](json& c) { c["linux"]["readonlyPaths"] = {"sys"}; }},
        {"config.json: linux.rootfsPropagation: \"sideways\" is not a propagation",
         [](json& c) { c["linux"]["rootfsPropagation"] = "sideways"; }},
        {"config.json: linux.personality.domain: LINUX32 (a 32-bit uname) is not supported",
         [](json& c) { c["linux"]["personality"] = {{"domain", "LINUX32"}}; }},
        {"config.json: linux.personality.domain: \"BSD\" is not a personality domain",
         [](json& c) { c["linux"]["personality"] = {{"domain", "BSD"}}; }},
        {"config.json: linux.personality.flags: personality flags are not supported",
         [](json& c) { c["linux"]["personality"] = {{"domain", "LINUX"}, {"flags", {"ADDR_NO_RANDOMIZE"}}}; }},
        {"config.json: linux.intelRdt: Intel RDT (resctrl) is not supported",
         [](json& c) { c["linux"]["intelRdt"] = json::object(); }},
        {"config.json: linux.timeOffsets: time namespaces are not supported",
         [](json& c) { c["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}}}}; }},
        {"config.json: linux.mountLabel: nsrun sets no SELinux mount label",
         [](json& c) { c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0"; }},
        {"config.json: linux.memoryPolicy: NUMA", [](json& c) { c["linux"]["memoryPolicy"] = {{"mode", "MPOL_BIND"}}; }},
        {"config.json: linux.netDevices: moving network devices",
         [](json& c) { c["linux"]["netDevices"] = {{"eth1", json::object({{"name", "eth1"}})}}; }},
        {"config.json: linux.devices[0].type: \"x\" is not a device type",
         [](json& c) { c["linux"]["devices"] = {{{"path", "/dev/x"}, {"type", "x"}}}; }},
        {"config.json: linux.devices[0].path: \"dev/fuse\" is not an absolute path",
         [](json& c) { c["linux"]["devices"] = {{{"path", "dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}}}; }},
        {"config.json: linux.devices[0].major: is required",
         [](json& c) { c["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"minor", 229}}}; }},
        {"config.json: linux.devices[0].fileMode: 100000 (octal) is more than permission bits",
         [](json& c) {
             c["linux"]["devices"] = {{{"path", "/dev/fuse"}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"fileMode", 0100000}}};
         }},
        {"config.json: (top level): is an array", [](json& c) { c = json::array(); }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.expected);
        json config = base_config();
        c.change(config);
        EXPECT_THAT(refusal(config), HasSubstr(c.expected));
    }
    EXPECT_EQ(refusal(base_config()), "") << "the base config itself is accepted";
}

TEST(OciConfig, BundleFilesAreReadWithClearErrors) {
    char dir_template[] = "/tmp/nsrun-oci-test-XXXXXX";
    const std::string dir = ::mkdtemp(dir_template);
    try {
        (void)spec_from_bundle(dir);
        ADD_FAILURE() << "a bundle without config.json was accepted";
    } catch (const nsrun::Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(dir + "/config.json"));
        EXPECT_THAT(e.what(), HasSubstr("ENOENT"));
    }
    std::ofstream(dir + "/config.json") << "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {,\n}\n";
    try {
        (void)spec_from_bundle(dir);
        ADD_FAILURE() << "malformed JSON was accepted";
    } catch (const nsrun::Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("config.json: not valid JSON"));
        EXPECT_THAT(e.what(), HasSubstr("line 3")) << "the parser's position";
    }
    std::ofstream(dir + "/config.json") << base_config().dump(2);
    const ContainerSpec spec = spec_from_bundle(dir);
    EXPECT_EQ(spec.root.path, dir + "/rootfs");
    EXPECT_EQ(spec.nsrun.bundle, dir);
    std::filesystem::remove_all(dir);
}

TEST(OciConfig, FeaturesSayWhatIsSupported) {
    const json f = oci_features();
    EXPECT_EQ(f.at("ociVersionMin"), "1.0.0");
    EXPECT_EQ(f.at("hooks").size(), 6u);
    const auto& options = f.at("mountOptions");
    EXPECT_NE(std::find(options.begin(), options.end(), "rbind"), options.end());
    EXPECT_EQ(std::find(options.begin(), options.end(), "tmpcopyup"), options.end()) << "refused, so not announced";
    const json& linux = f.at("linux");
    EXPECT_EQ(linux.at("cgroup").at("systemd"), false);
    EXPECT_EQ(linux.at("cgroup").at("v2"), true);
    const auto& ns = linux.at("namespaces");
    EXPECT_EQ(std::find(ns.begin(), ns.end(), "time"), ns.end());
    EXPECT_EQ(ns.size(), 7u);
    EXPECT_TRUE(linux.at("seccomp").at("enabled").get<bool>());
    const auto& actions = linux.at("seccomp").at("actions");
    EXPECT_EQ(std::find(actions.begin(), actions.end(), "SCMP_ACT_NOTIFY"), actions.end());
    const auto& archs = linux.at("seccomp").at("archs");
    EXPECT_NE(std::find(archs.begin(), archs.end(), "SCMP_ARCH_X86_64"), archs.end());
    EXPECT_FALSE(linux.at("capabilities").empty());
    EXPECT_TRUE(f.at("annotations").contains("org.nsrun.version"));
}

// What the engine makes of a config.json mount's options (bundle_mounts.cpp):
// pure logic, the mounts themselves are proven by the OCI client tests.
TEST(OciConfig, MountOptionsCompileToFlagsPropagationAndData) {
    const MountOptions devpts =
        mount_options({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
    EXPECT_EQ(devpts.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
    EXPECT_EQ(devpts.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    EXPECT_EQ(devpts.propagation, 0ul);

    const MountOptions bind = mount_options({"rbind", "rprivate", "nosuid", "nodev", "ro"});
    EXPECT_TRUE(bind.recursive_bind);
    EXPECT_EQ(bind.flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_RDONLY));
    EXPECT_EQ(bind.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
    EXPECT_EQ(bind.data, "") << "a bind takes no data";

    EXPECT_EQ(mount_options({"ro", "rw"}).flags, 0ul) << "the later option wins";
    EXPECT_EQ(mount_options({"rro", "rnosuid"}).flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID));
    EXPECT_EQ(mount_options({"rslave"}).propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
    EXPECT_EQ(mount_options({"rsize=8192"}).data, "rsize=8192") << "data starting with r is still data";
}
