// Unit tests of the command line → ContainerSpec compilation (final/cli_run.cpp)
// and of the spec's JSON form: pure logic (run as root or not: the euid only
// decides rootless, which the tests read back from the spec).
#include "cli.hpp"
#include "volumes.hpp"
#include "seccomp.hpp"
#include "netns.hpp"

#include <nsrun/error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sched.h>
#include <unistd.h>

namespace {

/// Parse `nsrun run ARGS…` the way the CLI does and compile the spec.
ContainerSpec compile(std::vector<std::string> args) {
    CLI::App app{"test", "nsrun run"};
    RunFlags flags;
    add_run_options(app, flags);
    app.prefix_command();
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
    flags.command = app.remaining();
    return compile_run(flags);
}

std::string env_value(const ContainerSpec& spec, const std::string& key) {
    for (const auto& e : spec.process.env) {
        if (e.starts_with(key + "=")) {
            return e.substr(key.size() + 1);
        }
    }
    return "<unset>";
}

} // namespace

TEST(FinalSpec, DefaultsAreTheStepContract) {
    const ContainerSpec spec = compile({"sh", "-c", "echo hi"});
    EXPECT_EQ(spec.process.args, (std::vector<std::string>{"sh", "-c", "echo hi"}));
    EXPECT_EQ(spec.hostname, "container");
    EXPECT_EQ(spec.root.path, NSRUN_LAB_ROOTFS);
    EXPECT_FALSE(spec.root.readonly);
    EXPECT_TRUE(spec.linux.has("uts"));
    EXPECT_TRUE(spec.linux.has("pid"));
    EXPECT_TRUE(spec.linux.has("mount"));
    EXPECT_TRUE(spec.linux.has("ipc")) << "an IPC namespace by default";
    EXPECT_TRUE(spec.linux.has("network"));
    EXPECT_EQ(spec.process.cwd, "/");
    EXPECT_EQ(env_value(spec, "HOSTNAME"), "container");
    EXPECT_TRUE(spec.nsrun.auto_remove) << "a foreground run without --name leaves nothing behind";
    EXPECT_EQ(spec.nsrun.stop_timeout, 10u);
}

TEST(FinalSpec, LifecycleFlags) {
    const ContainerSpec spec = compile({"--name", "web", "-d", "--init", "--stop-timeout", "3", "httpd"});
    EXPECT_EQ(spec.nsrun.name, "web");
    EXPECT_TRUE(spec.nsrun.detach);
    EXPECT_TRUE(spec.nsrun.init);
    EXPECT_FALSE(spec.nsrun.auto_remove);
    EXPECT_EQ(spec.nsrun.stop_timeout, 3u);
    EXPECT_TRUE(compile({"-d", "--rm", "true"}).nsrun.auto_remove);
}

TEST(FinalSpec, ProcessFlags) {
    const ContainerSpec spec =
        compile({"-e", "A=1", "-e", "PATH=/bin", "-w", "/srv", "-u", "1000:100", "--hostname", "box", "-t", "env"});
    EXPECT_EQ(env_value(spec, "A"), "1");
    EXPECT_EQ(env_value(spec, "PATH"), "/bin") << "-e replaces a default";
    EXPECT_EQ(env_value(spec, "TERM"), "xterm") << "-t sets TERM";
    EXPECT_EQ(env_value(spec, "HOSTNAME"), "box");
    EXPECT_EQ(spec.process.cwd, "/srv");
    EXPECT_EQ(spec.process.user, (User{1000, 100}));
    EXPECT_TRUE(spec.process.terminal);
    EXPECT_EQ(compile({"-u", "7", "id"}).process.user, (User{7, 7}));
}

TEST(FinalSpec, ResourcesAndPorts) {
    const ContainerSpec spec = compile({"-m", "64m", "--cpus", "0.5", "--pids-limit", "20", "-p", "8080:80",
                                        "-p", "127.0.0.1:5353:53/udp", "true"});
    EXPECT_EQ(spec.linux.resources.memory, 64ULL << 20);
    EXPECT_EQ(spec.linux.resources.cpus, 0.5);
    EXPECT_EQ(spec.linux.resources.pids_limit, 20u);
    ASSERT_EQ(spec.nsrun.publish.size(), 2u);
    EXPECT_EQ(spec.nsrun.publish[0].str(), "8080->80/tcp");
    EXPECT_EQ(spec.nsrun.publish[1].str(), "127.0.0.1:5353->53/udp");
}

TEST(FinalSpec, VolumesAndTmpfs) {
    const ContainerSpec spec = compile({"-v", "/srv/site:/srv/www:ro", "-v", "/tmp:/data", "--tmpfs", "/run",
                                        "--read-only", "true"});
    ASSERT_EQ(spec.mounts.size(), 3u);
    EXPECT_EQ(spec.mounts[0].source, "/srv/site");
    EXPECT_EQ(spec.mounts[0].destination, "/srv/www");
    EXPECT_TRUE(spec.mounts[0].readonly());
    EXPECT_FALSE(spec.mounts[1].readonly());
    EXPECT_EQ(spec.mounts[2].type, "tmpfs");
    EXPECT_TRUE(spec.root.readonly);
}

TEST(FinalSpec, BadVolumesAreRefused) {
    for (const char* bad : {"relative:/x", "/abs", "/abs:relative", "/abs:/x:rx", "/abs:/"}) {
        EXPECT_THROW(parse_volume(bad), nsrun::Error) << bad;
    }
}

TEST(FinalSpec, NetworkAndIpcModes) {
    const bool root = ::geteuid() == 0;
    const ContainerSpec host = compile({"--network", "host", "--ipc", "host", "true"});
    EXPECT_FALSE(host.linux.has("network"));
    EXPECT_FALSE(host.linux.has("ipc"));
    const ContainerSpec joined = compile({"--network", "container:web", "--ipc", "container:db", "true"});
    EXPECT_EQ(joined.nsrun.network, NetworkMode::container);
    EXPECT_EQ(joined.nsrun.network_container, "web");
    EXPECT_EQ(joined.nsrun.ipc_container, "db");
    if (root) {
        EXPECT_EQ(compile({"true"}).nsrun.network, NetworkMode::bridge);
    } else {
        EXPECT_EQ(compile({"true"}).nsrun.network, NetworkMode::none) << "rootless falls back to none";
    }
    EXPECT_THROW(compile({"--network", "bogus", "true"}), nsrun::Error);
    EXPECT_THROW(compile({"--ipc", "bogus", "true"}), nsrun::Error);
}

TEST(FinalSpec, InvalidNamesAreRefusedBeforeAnythingIsMade) {
    for (const char* bad : {"a/b", "..", "-x", ""}) {
        try {
            compile({"--name", bad, "true"});
            if (std::string(bad).empty()) {
                continue; // an empty --name is no name
            }
            ADD_FAILURE() << bad << " was accepted";
        } catch (const nsrun::Error& e) {
            EXPECT_EQ(e.exit_status(), 125) << bad;
        }
    }
}

TEST(FinalSpec, CloneFlagsFollowTheNamespaces) {
    ContainerSpec spec = compile({"--network", "none", "true"});
    const int flags = spec.clone_flags();
    EXPECT_TRUE(flags & CLONE_NEWUTS);
    EXPECT_TRUE(flags & CLONE_NEWPID);
    EXPECT_TRUE(flags & CLONE_NEWNS);
    EXPECT_TRUE(flags & CLONE_NEWNET);
    EXPECT_TRUE(flags & CLONE_NEWIPC);
    EXPECT_TRUE(spec.linux.has("cgroup")) << "run always gives the container a cgroup namespace";
    EXPECT_FALSE(flags & CLONE_NEWCGROUP) << "made by the child once it is in its cgroup, not at clone";
    for (auto& ns : spec.linux.namespaces) {
        if (ns.type == "network") {
            ns.path = "/proc/1/ns/net"; // joined, not created
        }
    }
    EXPECT_FALSE(spec.clone_flags() & CLONE_NEWNET);
}

TEST(FinalSpec, TheChildMakesItsNetworkNamespaceOnlyWhenNobodyOutsideNeedsItBeforeGo) {
    const ContainerSpec none = compile({"--network", "none", "true"});
    EXPECT_TRUE(child_makes_network_namespace(none, /*link=*/false, /*userns=*/false, /*oci_create=*/false));
    EXPECT_FALSE(child_makes_network_namespace(none, /*link=*/true, false, false))
        << "the parent moves the veth's peer into it before go";
    EXPECT_FALSE(child_makes_network_namespace(none, false, /*userns=*/true, false))
        << "it belongs to the user namespace clone makes";
    EXPECT_FALSE(child_makes_network_namespace(none, false, false, /*oci_create=*/true))
        << "createRuntime hooks get the pid and may configure /proc/PID/ns/net at once";
    const ContainerSpec host = compile({"--network", "host", "true"});
    EXPECT_FALSE(child_makes_network_namespace(host, false, false, false)) << "no network namespace at all";
    ContainerSpec joined = none;
    for (auto& ns : joined.linux.namespaces) {
        if (ns.type == "network") {
            ns.path = "/proc/1/ns/net";
        }
    }
    EXPECT_FALSE(child_makes_network_namespace(joined, false, false, false)) << "joined, not made";
}

TEST(FinalSpec, JsonRoundTripKeepsEverything) {
    const ContainerSpec spec = compile({"--name", "web", "-d", "-m", "128m", "-p", "8080:80", "-v", "/srv:/srv:ro",
                                        "--tmpfs", "/run", "-e", "A=1", "-w", "/srv", "--userns", "--ulimit", "nofile=10:20",
                                        "--oom-score-adj", "5", "httpd", "-f"});
    const nlohmann::json j = spec;
    EXPECT_EQ(j.at("ociVersion"), "1.0.2");
    EXPECT_EQ(j.at("process").at("args").size(), 2u);
    EXPECT_TRUE(j.at("linux").contains("uidMappings"));
    EXPECT_EQ(j.at("org.nsrun").at("name"), "web");
    EXPECT_EQ(nlohmann::json::parse(j.dump()).get<ContainerSpec>(), spec);
}

TEST(FinalSpec, HardenedByDefaultAndRelaxedOnRequest) {
    const ContainerSpec spec = compile({"true"});
    EXPECT_TRUE(spec.process.no_new_privileges);
    EXPECT_EQ(spec.process.capabilities.bounding.size(), 14u) << "docker's default set";
    EXPECT_TRUE(spec.process.capabilities.ambient.empty());
    EXPECT_FALSE(spec.nsrun.privileged);
    const ContainerSpec relaxed = compile({"--security-opt", "no-new-privileges=false", "--cap-drop", "ALL", "true"});
    EXPECT_FALSE(relaxed.process.no_new_privileges);
    EXPECT_TRUE(relaxed.process.capabilities.bounding.empty());
    EXPECT_THROW((void)compile({"--security-opt", "apparmor=x", "true"}), nsrun::Error);
    EXPECT_THROW((void)compile({"--cap-add", "NOT_A_CAP", "true"}), nsrun::Error);
}

TEST(FinalSpec, CapabilitiesAndNoNewPrivsSurviveJson) {
    const ContainerSpec spec = compile({"--cap-add", "NET_ADMIN", "-u", "1000", "true"});
    const ContainerSpec back = nlohmann::json(spec).get<ContainerSpec>();
    EXPECT_EQ(back.process.capabilities, spec.process.capabilities);
    EXPECT_TRUE(back.process.capabilities.effective.empty()) << "a non-root user";
    EXPECT_EQ(back.process.no_new_privileges, spec.process.no_new_privileges);
}

namespace {

/// A spec with every field config.json brings and `nsrun run` does not set.
ContainerSpec spec_with_every_oci_field() {
    ContainerSpec spec = compile({"--name", "oci", "sh"});
    spec.process.user.additional_gids = {10, 20};
    spec.process.user.umask = 022;
    spec.process.rlimits = {{"RLIMIT_NOFILE", 4096, 1024}, {"RLIMIT_CORE", 0, 0}};
    spec.process.oom_score_adj = -500;
    spec.process.console_size = ConsoleSize{24, 80};
    spec.mounts.push_back({"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}});
    spec.mounts.push_back({"/dev/pts", "devpts", "devpts", {"nosuid", "newinstance", "ptmxmode=0666", "gid=5"}});
    spec.linux.resources.memory_swap = 256ULL << 20;
    spec.linux.resources.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 3, "rwm"},
                                    {true, "c", 136, std::nullopt, "rw"}};
    spec.linux.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "65536"}};
    spec.linux.rootfs_propagation = "rslave";
    spec.linux.devices = {{"/dev/fuse", "c", 10, 229, 0666, 0, 0}, {"/dev/null2", "c", 1, 3, std::nullopt, {}, {}}};
    spec.linux.namespaces.push_back({"network", "/var/run/netns/cni-1234"});
    spec.hooks.prestart = {{"/usr/bin/hook", {"hook", "prestart"}, {"A=1"}, 5}};
    spec.hooks.createRuntime = {{"/bin/cr", {}, {}, std::nullopt}};
    spec.hooks.createContainer = {{"/bin/cc", {"cc"}, {}, 1}};
    spec.hooks.startContainer = {{"/bin/sc", {}, {"B=2"}, std::nullopt}};
    spec.hooks.poststart = {{"/bin/ps", {}, {}, 3}};
    spec.hooks.poststop = {{"/bin/pst", {"pst", "x"}, {}, std::nullopt}};
    spec.annotations = {{"io.kubernetes.cri.container-type", "container"}, {"org.example", ""}};
    spec.nsrun.bundle = "/run/bundles/oci";
    return spec;
}

} // namespace

TEST(FinalSpec, JsonRoundTripKeepsTheOciFields) {
    const ContainerSpec spec = spec_with_every_oci_field();
    const nlohmann::json j = spec;
    EXPECT_EQ(j.at("process").at("user").at("additionalGids"), nlohmann::json({10, 20}));
    EXPECT_EQ(j.at("process").at("rlimits").at(0).at("type"), "RLIMIT_NOFILE");
    EXPECT_EQ(j.at("process").at("oomScoreAdj"), -500);
    EXPECT_EQ(j.at("process").at("consoleSize").at("width"), 80);
    EXPECT_EQ(j.at("linux").at("resources").at("devices").at(1).at("major"), 1);
    EXPECT_FALSE(j.at("linux").at("resources").at("devices").at(0).contains("major")) << "none is any (*)";
    EXPECT_EQ(j.at("linux").at("resources").at("memory").at("swap"), 256ULL << 20);
    EXPECT_FALSE(j.at("linux").at("resources").at("memory").contains("limit"));
    EXPECT_EQ(j.at("linux").at("sysctl").at("net.ipv4.ip_forward"), "1");
    EXPECT_EQ(j.at("linux").at("rootfsPropagation"), "rslave");
    EXPECT_EQ(j.at("hooks").at("createRuntime").at(0).at("path"), "/bin/cr");
    EXPECT_EQ(j.at("hooks").at("prestart").at(0).at("timeout"), 5);
    EXPECT_EQ(j.at("annotations").at("io.kubernetes.cri.container-type"), "container");
    const ContainerSpec back = nlohmann::json::parse(j.dump()).get<ContainerSpec>();
    EXPECT_EQ(back.process, spec.process);
    EXPECT_EQ(back.linux, spec.linux);
    EXPECT_EQ(back.hooks, spec.hooks);
    EXPECT_EQ(back.annotations, spec.annotations);
    EXPECT_EQ(back.mounts, spec.mounts);
    EXPECT_EQ(back, spec);
}

TEST(FinalSpec, RecordsWithoutTheOciFieldsStillLoad) {
    // A state file written before config.json support has none of these keys.
    nlohmann::json j = compile({"--name", "old", "sh"});
    j.at("process").at("user").erase("additionalGids");
    for (const char* key : {"sysctl", "rootfsPropagation", "devices"}) {
        j.at("linux").erase(key);
    }
    j.erase("hooks");
    j.erase("annotations");
    j.at("org.nsrun").erase("bundle");
    const ContainerSpec back = j.get<ContainerSpec>();
    EXPECT_TRUE(back.process.user.additional_gids.empty());
    EXPECT_TRUE(back.process.rlimits.empty());
    EXPECT_FALSE(back.process.oom_score_adj);
    EXPECT_TRUE(back.linux.sysctl.empty());
    EXPECT_TRUE(back.hooks.empty());
    EXPECT_TRUE(back.annotations.empty());
    EXPECT_EQ(back.nsrun.bundle, "");
    EXPECT_EQ(back, compile({"--name", "old", "sh"}));
}

// spec_text() writes the seccomp profile without a json tree: it must be the
// tree's dump(2), byte for byte, whatever the profile holds (the state file
// is read back by nlohmann's parser, and by people).
TEST(FinalSpec, SpecTextIsTheTreesDumpByteForByte) {
    const auto expect_same = [](const ContainerSpec& spec, const char* what) {
        EXPECT_EQ(spec_text(spec), nlohmann::json(spec).dump(2)) << what;
    };
    const ContainerSpec hardened = compile({"true"});
    ASSERT_TRUE(hardened.linux.seccomp.has_value());
    ASSERT_GT(hardened.linux.seccomp->syscalls.at(0).names.size(), 100u) << "hundreds of names";
    expect_same(hardened, "docker's default profile");
    expect_same(compile({"--privileged", "true"}), "unconfined (no profile)");
    expect_same(spec_with_every_oci_field(), "every OCI field");

    ContainerSpec odd = spec_with_every_oci_field();
    Seccomp profile;
    profile.default_action = "SCMP_ACT_ERRNO";
    profile.default_errno_ret = 38;
    profile.syscalls.push_back({{}, "SCMP_ACT_ALLOW", std::nullopt, {}}); // no names
    profile.syscalls.push_back({{"clone"}, "SCMP_ACT_ERRNO", 1u,
                                {{0, 0x7E020000ULL, 0, "SCMP_CMP_MASKED_EQ"}, {1, 18446744073709551615ULL, 2, "SCMP_CMP_NE"}}});
    profile.syscalls.push_back({{"quote\"d", "back\\slash", "tab\there", "caf\xc3\xa9", "\x01"}, "SCMP_ACT_LOG", {}, {}});
    odd.linux.seccomp = profile;
    expect_same(odd, "errno values, args, names to escape, no architectures");

    // Strings elsewhere that look like the member being replaced.
    odd.annotations["seccomp"] = "\x01nsrun:seccomp\x01";
    odd.linux.masked_paths.push_back("\n    \"seccomp\": \"\x01nsrun:seccomp\x01\"");
    odd.process.env.push_back("X=\x01nsrun:seccomp\x01");
    expect_same(odd, "the marker's text in other strings");
    odd.linux.seccomp->syscalls.clear();
    odd.linux.seccomp->architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    expect_same(odd, "no rules");
}

// nsrun's default profile is kept in a spec's json (the record) as the
// capabilities it was made for; reading it back builds it again.  A profile
// of any other origin is written whole, and a changed default is no longer
// the default.
TEST(FinalSpec, TheDefaultSeccompProfileIsWrittenAsItsCapabilitiesAndReadBackWhole) {
    const ContainerSpec hardened = compile({"--cap-add", "SYS_ADMIN", "true"});
    ASSERT_TRUE(hardened.linux.seccomp && hardened.linux.seccomp->default_for);
    EXPECT_EQ(*hardened.linux.seccomp->default_for, hardened.process.capabilities.bounding);
    const std::string text = spec_text(hardened);
    const nlohmann::json written = nlohmann::json::parse(text).at("linux").at("seccomp");
    EXPECT_EQ(written, nlohmann::json({{"defaultProfileFor", hardened.process.capabilities.bounding}}));
    EXPECT_EQ(text.find("\"getpid\""), std::string::npos) << "no syscall names";
    const ContainerSpec back = nlohmann::json::parse(text).get<ContainerSpec>();
    EXPECT_EQ(back, hardened);
    EXPECT_EQ(back.linux.seccomp->syscalls, default_seccomp_profile(hardened.process.capabilities.bounding).syscalls);
    ASSERT_GT(back.linux.seccomp->syscalls.at(0).names.size(), 100u);

    ContainerSpec changed = hardened;
    changed.linux.seccomp->default_for.reset(); // e.g. a profile file that says the same
    const std::string whole = spec_text(changed);
    EXPECT_NE(whole.find("\"getpid\""), std::string::npos) << "written whole";
    EXPECT_EQ(nlohmann::json::parse(whole).get<ContainerSpec>(), changed);
    EXPECT_GT(whole.size(), 2 * text.size());
}
