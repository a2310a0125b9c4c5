// nsrun run: step 09's options, with their names and meanings, plus
// docker's lifecycle flags — compiled into one ContainerSpec.
#include "cli.hpp"

#include "caps.hpp"
#include "devices.hpp"
#include "engine.hpp"
#include "masks.hpp"
#include "monitor.hpp"
#include "names.hpp"
#include "rlimits.hpp"
#include "seccomp.hpp"
#include "netns.hpp"
#include "userns.hpp"
#include "uts.hpp"
#include "volumes.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/netlink.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// docker's minimum: below a few MiB not even a shell starts.
constexpr unsigned long long min_memory = 6ULL << 20;
/// The kernel's cap on the number of pids (PID_MAX_LIMIT on 64-bit).
constexpr unsigned long long max_pids = 4194304;

std::optional<unsigned long long> parse_whole(const std::string& text) {
    unsigned long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

long online_cpus() { return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)); }

std::string check_cpus(const std::string& text) {
    const std::string accepted =
        fmt::format("give a number of CPUs from 0.01 to {} (this machine's), e.g. 0.5", online_cpus());
    double cpus = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cpus);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(cpus)) {
        return fmt::format("'{}' is not a number: {}", text, accepted);
    }
    if (cpus < 0.01 || cpus > static_cast<double>(online_cpus())) {
        return fmt::format("{} is out of range: {}", text, accepted);
    }
    return {};
}

std::string check_whole(const std::string& text, unsigned long long low, unsigned long long high, const char* what) {
    const auto value = parse_whole(text);
    if (!value || *value < low || *value > high) {
        return fmt::format("'{}' is not valid: give {} from {} to {}", text, what, low, high);
    }
    return {};
}

/// A transform: "64m" → "67108864", so CLI11 stores bytes.
std::string size_to_bytes(std::string& text) {
    unsigned long long bytes = 0;
    try {
        bytes = nsrun::cli::parse_size(text);
    } catch (const CLI::ValidationError& e) {
        return e.what();
    }
    if (bytes < min_memory) {
        return fmt::format("'{}' is too small: give at least 6m (bytes, or a number with a k, m or g suffix)", text);
    }
    text = std::to_string(bytes);
    return {};
}

void add_map_option(CLI::App& app, const std::string& flag, std::vector<IdRange>& ranges, const char* what) {
    app.add_option_function<std::vector<std::string>>(
           flag,
           [&ranges, flag](const std::vector<std::string>& texts) {
               ranges.clear();
               for (const auto& text : texts) {
                   IdRange range;
                   if (const std::string problem = parse_id_range(text, range); !problem.empty()) {
                       throw CLI::ValidationError(flag, problem);
                   }
                   ranges.push_back(range);
               }
               try {
                   check_id_map(flag, ranges);
               } catch (const nsrun::Error& e) {
                   throw CLI::ValidationError(e.what());
               }
           },
           fmt::format("map {} ids CONTAINER..+COUNT to HOST..+COUNT (repeatable; implies --userns)", what))
        ->type_name("C:H:N")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

/// A checker made of a function returning an error message (empty: fine)
/// that may throw nsrun::Error.
CLI::Validator checker(std::function<void(const std::string&)> check) {
    return CLI::Validator(
        [check = std::move(check)](const std::string& text) {
            try {
                check(text);
                return std::string();
            } catch (const std::exception& e) {
                return std::string(e.what());
            }
        },
        "");
}

/// KEY=value lines of an --env-file (blank lines and # comments skipped; a
/// bare KEY takes the runtime's own value, as docker does).
std::vector<std::string> read_env_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw nsrun::Error{fmt::format("--env-file {}: {}", path, nsrun::errno_text(errno)),
                           "give a file of KEY=value lines"};
    }
    std::vector<std::string> env;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        env.push_back(line);
    }
    return env;
}

/// KEY=value sets, a bare KEY copies the runtime's own value (or is dropped).
void apply_env(std::vector<std::string>& env, const std::string& entry) {
    std::string item = entry;
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq);
    if (key.empty()) {
        throw nsrun::Error{fmt::format("-e {}: give KEY=value", entry)};
    }
    if (eq == std::string::npos) {
        const char* value = ::getenv(key.c_str());
        if (!value) {
            return;
        }
        item = key + "=" + value;
    }
    std::erase_if(env, [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    env.push_back(item);
}

User parse_user(const std::string& text) {
    const auto bad = [&] {
        return nsrun::Error{fmt::format("-u {}: give UID[:GID] as numbers", text),
                            "names need the container's /etc/passwd, which nsrun does not read: use numbers"};
    };
    const auto colon = text.find(':');
    const auto uid = parse_whole(text.substr(0, colon));
    const auto gid = colon == std::string::npos ? uid : parse_whole(text.substr(colon + 1));
    if (!uid || !gid || *uid > 0xfffffffeULL || *gid > 0xfffffffeULL) {
        throw bad();
    }
    return {static_cast<std::uint32_t>(*uid), static_cast<std::uint32_t>(*gid)};
}

/// --network MODE or container:NAME|ID.
void compile_network(const RunFlags& flags, ContainerSpec& spec) {
    std::string mode = flags.network;
    for (auto& c : mode) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (flags.network.starts_with("container:")) {
        spec.nsrun.network = NetworkMode::container;
        spec.nsrun.network_container = flags.network.substr(10);
    } else if (mode == "none" || mode == "host" || mode == "veth" || mode == "bridge") {
        spec.nsrun.network = mode == "none"   ? NetworkMode::none
                             : mode == "host" ? NetworkMode::host
                             : mode == "veth" ? NetworkMode::veth
                                              : NetworkMode::bridge;
    } else {
        throw nsrun::Error{fmt::format("--network {}: not a network mode", flags.network),
                           "give none, host, veth, bridge or container:NAME"};
    }
    spec.nsrun.network = network_for(spec.nsrun.network, flags.network_given, spec.nsrun.rootless);
    if (spec.nsrun.network != NetworkMode::host) {
        spec.linux.namespaces.push_back({"network", ""});
    }
}

/// --security-opt seccomp=…: "" docker's default profile for the
/// container's capabilities, "unconfined" none, else a profile file.  The
/// filter is compiled here once, so a bad profile is refused (125) before
/// anything is made.
void compile_seccomp(const std::string& choice, ContainerSpec& spec) {
    const auto& caps = spec.process.capabilities.bounding;
    if (choice == "unconfined") {
        spec.linux.seccomp.reset();
        return;
    }
    if (choice.empty()) {
        spec.linux.seccomp = default_seccomp_profile(caps);
        return;
    }
    std::ifstream in(choice);
    if (!in) {
        throw nsrun::Error{fmt::format("--security-opt seccomp={}: {}", choice, nsrun::errno_text(errno)),
                           "give a readable seccomp profile (JSON), or seccomp=unconfined"};
    }
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    spec.linux.seccomp = parse_seccomp_profile(text, choice, caps);
    try {
        (void)SeccompFilter(*spec.linux.seccomp, true);
    } catch (const nsrun::Error& e) {
        throw nsrun::Error{fmt::format("--security-opt seccomp={}: {}", choice, e.what()), e.hint()};
    }
}

/// --cap-add, --cap-drop, --privileged, --security-opt no-new-privileges:
/// the process's five capability sets and no_new_privs.
void compile_security(const RunFlags& flags, ContainerSpec& spec) {
    std::vector<std::string> add;
    std::vector<std::string> drop;
    for (const auto& cap : flags.cap_add) {
        add.push_back(normalize_capability(cap, "--cap-add"));
    }
    for (const auto& cap : flags.cap_drop) {
        drop.push_back(normalize_capability(cap, "--cap-drop"));
    }
    spec.nsrun.privileged = flags.privileged;
    spec.process.capabilities = capabilities_for(capability_set(add, drop, flags.privileged, runtime_capabilities()), spec.process.user);
    spec.process.no_new_privileges = true;
    std::string seccomp = flags.privileged ? "unconfined" : "";
    for (const auto& opt : flags.security_opts) {
        const auto eq = opt.find_first_of("=:");
        const std::string key = opt.substr(0, eq);
        const std::string value = eq == std::string::npos ? "true" : opt.substr(eq + 1);
        if (key == "no-new-privileges" && (value == "true" || value == "false")) {
            spec.process.no_new_privileges = value == "true";
        } else if (key == "seccomp" && !value.empty()) {
            seccomp = value;
        } else if ((key == "apparmor" && value == "unconfined") || (key == "label" && value == "disable")) {
            // What nsrun does anyway: COMMAND keeps the runtime's own LSM context.
        } else if (key == "apparmor" || key == "label") {
            throw nsrun::Error{fmt::format("--security-opt {}: nsrun sets no AppArmor profile or SELinux label: "
                                           "COMMAND would run with the runtime's own, not the one asked for",
                                           opt),
                               "leave it out (apparmor=unconfined and label=disable are accepted: that is what "
                               "nsrun does), or run under runc or crun"};
        } else {
            throw nsrun::Error{fmt::format("--security-opt {}: not an option nsrun knows", opt),
                               "give no-new-privileges=true|false, seccomp=unconfined or seccomp=FILE.json"};
        }
    }
    compile_seccomp(seccomp, spec);
}

/// --ipc private|host|container:NAME|ID.
void compile_ipc(const RunFlags& flags, ContainerSpec& spec) {
    if (flags.ipc == "host") {
        spec.nsrun.ipc_host = true;
        return;
    }
    if (flags.ipc.starts_with("container:")) {
        spec.nsrun.ipc_container = flags.ipc.substr(10);
    } else if (flags.ipc != "private" && flags.ipc != "shareable") {
        throw nsrun::Error{fmt::format("--ipc {}: not an IPC mode", flags.ipc),
                           "give private, host or container:NAME"};
    }
    spec.linux.namespaces.push_back({"ipc", ""});
}

} // namespace

std::vector<std::string> default_env(const std::string& hostname, bool terminal) {
    std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                    "HOSTNAME=" + hostname, "HOME=/root"};
    if (terminal) {
        env.emplace_back("TERM=xterm");
    }
    return env;
}

void add_run_options(CLI::App& app, RunFlags& f) {
    // step 01-09: the course's options, same names and meanings.
    app.add_option("--hostname", f.hostname, "the container's hostname (1-64 characters)")
        ->type_name("NAME")
        ->capture_default_str()
        ->check(CLI::Validator(hostname_problem, ""));
    app.add_option("--rootfs", f.rootfs, "directory to use as the container's / (default: the lab rootfs)")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("-m,--memory", f.memory, "memory limit: bytes, or with a k, m or g suffix (e.g. 64m)")
        ->type_name("SIZE")
        ->transform(CLI::Validator(size_to_bytes, ""));
    app.add_option("--cpus", f.cpus, "CPU limit: how many CPUs' worth of time, e.g. 0.5")
        ->type_name("N")
        ->check(CLI::Validator(check_cpus, ""));
    app.add_option("--cpu-weight", f.cpu_weight, "CPU share when CPUs are contended: 1-10000 (default 100)")
        ->type_name("N")
        ->check(CLI::Validator([](const std::string& t) { return check_whole(t, 1, 10000, "a weight"); }, ""));
    app.add_option("--pids-limit", f.pids_limit, "at most N processes (and threads) at once")
        ->type_name("N")
        ->check(CLI::Validator([](const std::string& t) { return check_whole(t, 1, max_pids, "a number of processes"); },
                               ""));
    app.add_flag("--userns", f.userns,
                 "run in a user namespace: root inside is an unprivileged host uid (default map 0:100000:65536)");
    add_map_option(app, "--uidmap", f.uid_ranges, "user");
    add_map_option(app, "--gidmap", f.gid_ranges, "group");
    app.add_option_function<std::string>(
           "--network",
           [&f](const std::string& mode) {
               f.network = mode;
               f.network_given = true;
           },
           "none: loopback only; host: share the host's network; veth: a veth pair to the host;\n"
           "bridge: a veth pair to the host's bridge (--bridge); container:NAME: join another container's")
        ->type_name("none|host|veth|bridge|container:NAME")
        ->default_str("bridge");
    app.add_option("--bridge", f.bridge, "the host's bridge for --network bridge (created on first use)")
        ->type_name("NAME")
        ->capture_default_str()
        ->check([](const std::string& name) {
            return name.empty() || name.size() > 15 ? std::string("a link name has 1 to 15 characters") : std::string();
        });
    app.add_option("--subnet", f.subnet, "the bridge's subnet; its .1 is the containers' gateway")
        ->type_name("CIDR")
        ->capture_default_str()
        ->check(checker([](const std::string& text) {
            const auto subnet = nsrun::netlink::Cidr::parse(text);
            if (subnet.prefix < 8 || subnet.prefix > 29) {
                throw nsrun::Error{fmt::format("--subnet {}: use a prefix of /8 to /29", text)};
            }
        }));
    app.add_option("--state-dir", f.state_dir, "where the runtime keeps containers' state, leases and logs")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("-p,--publish", f.publish,
                   "publish a container port on the host (repeatable), e.g. -p 8080:80 or -p 127.0.0.1:5353:53/udp")
        ->type_name("[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]")
        ->allow_extra_args(false)
        ->check(checker([](const std::string& text) { (void)Publish::parse(text); }));
    // docker's lifecycle flags.
    app.add_option("--name", f.name, "a name for the container ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64)")
        ->type_name("NAME");
    app.add_flag("-d,--detach", f.detach, "run in the background under a monitor; print the container's id");
    app.add_flag("--rm", f.remove, "remove the container when it exits");
    app.add_flag("-i,--interactive", f.interactive, "keep stdin open (with -t: the terminal's input)");
    app.add_flag("-t,--tty", f.tty,
                 "give the container a terminal (a pty in raw mode; resizes follow; with -d what it shows goes to "
                 "the log)");
    app.add_option("-e,--env", f.env, "set an environment variable KEY=value (KEY alone: copy ours)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    app.add_option("--env-file", f.env_files, "read KEY=value lines from a file")->type_name("FILE")->allow_extra_args(false);
    app.add_option("-w,--workdir", f.workdir, "working directory inside the container")->type_name("DIR");
    app.add_option("-u,--user", f.user, "run COMMAND as UID[:GID] (numbers)")->type_name("UID[:GID]");
    app.add_option("-v,--volume", f.volumes, "bind-mount a host path: HOST:CONTAINER[:ro|rw] (repeatable)")
        ->type_name("HOST:CONTAINER[:ro|rw]")
        ->allow_extra_args(false)
        ->check(checker([](const std::string& text) { (void)parse_volume(text); }));
    app.add_option("--tmpfs", f.tmpfs, "mount a fresh tmpfs at PATH (repeatable)")
        ->type_name("PATH")
        ->allow_extra_args(false)
        ->check(checker([](const std::string& text) { (void)parse_tmpfs(text); }));
    app.add_flag("--read-only", f.read_only, "mount the container's root filesystem read-only");
    app.add_flag("--init", f.init, "run a tiny init as PID 1 that reaps zombies and forwards signals");
    app.add_option("--ipc", f.ipc, "IPC namespace: private (default), host, or container:NAME")
        ->type_name("private|host|container:NAME")
        ->capture_default_str();
    // Hardening: docker's defaults, each relaxed explicitly.
    app.add_option("--cap-add", f.cap_add,
                   "add a capability to docker's default 14 (repeatable; NET_ADMIN or CAP_NET_ADMIN; ALL: every one)")
        ->type_name("CAP")
        ->allow_extra_args(false);
    app.add_option("--cap-drop", f.cap_drop, "drop a capability from the default set (repeatable; ALL: every one)")
        ->type_name("CAP")
        ->allow_extra_args(false);
    app.add_flag("--privileged", f.privileged,
                 "every capability, no seccomp filter, nothing masked or read-only in /proc and /sys, every device\n"
                 "allowed by the device cgroup (the host's device nodes are still not shown in /dev). Without it the\n"
                 "device cgroup (v1: devices.allow; v2: an eBPF program) lets COMMAND open only null, zero, full,\n"
                 "random, urandom, tty, ptmx and /dev/pts/* (console with -t); mknod works, opening the node does not");
    app.add_option("--device", f.devices,
                   "give COMMAND the host's device node HOST at CONTAINER (default: the same path) with access PERMS\n"
                   "(a subset of rwm, default rwm): the node is made in the container's /dev (with --userns, where\n"
                   "mknod is refused, HOST is bind-mounted there) and allowed by the device cgroup; repeatable\n"
                   "(docker's syntax)")
        ->type_name("HOST[:CONTAINER][:PERMS]")
        ->allow_extra_args(false);
    app.add_option("--security-opt", f.security_opts,
                   "no-new-privileges=false: let setuid binaries and file capabilities work (default: true);\n"
                   "seccomp=unconfined: no seccomp filter; seccomp=FILE.json: this profile (docker's or OCI's format)\n"
                   "instead of the default one (docker's default profile). No LSM: nsrun sets no AppArmor profile\n"
                   "or SELinux label (COMMAND keeps the runtime's own); apparmor=PROFILE and label=… are refused,\n"
                   "apparmor=unconfined and label=disable accepted")
        ->type_name("OPT")
        ->allow_extra_args(false);
    app.add_option("--ulimit", f.ulimits,
                   "a resource limit of COMMAND, docker's syntax (repeatable): nofile=1024:2048, nproc=64,\n"
                   "core=0, stack=… (-1: unlimited; SOFT alone sets both); default: the runtime's own")
        ->type_name("NAME=SOFT[:HARD]")
        ->allow_extra_args(false);
    app.add_option("--oom-score-adj", f.oom_score_adj,
                   "COMMAND's OOM score adjustment, -1000 (never chosen) to 1000 (chosen first) when memory runs out")
        ->type_name("N");
    app.add_option("--stop-timeout", f.stop_timeout, "seconds `nsrun stop` waits before SIGKILL (default 10)")
        ->type_name("SECONDS")
        ->capture_default_str();
    // images (nsrun image --help)
    app.add_option("--image", f.image,
                   "run an imported image (instead of --rootfs): its layers under an overlay of the container's own;\n"
                   "without COMMAND its Entrypoint and Cmd run; its Env, WorkingDir and User apply unless given")
        ->type_name("NAME[:TAG]|ID");
    app.add_option("--image-root", f.image_root, "where images are stored")->type_name("DIR")->capture_default_str();
    app.add_option("--entrypoint", f.entrypoint, "with --image: run this instead of the image's Entrypoint (\"\" clears it)")
        ->type_name("COMMAND");
}

namespace {

/// docker's rule: Entrypoint + (COMMAND, or the image's Cmd); --entrypoint
/// replaces the image's Entrypoint and drops its Cmd.
std::vector<std::string> image_command(const RunFlags& f) {
    const ImageProcess& image = *f.image_process;
    std::vector<std::string> args;
    if (f.entrypoint) {
        if (!f.entrypoint->empty()) {
            args.push_back(*f.entrypoint);
        }
    } else {
        args = image.entrypoint;
    }
    const auto& rest = !f.command.empty() ? f.command : f.entrypoint ? std::vector<std::string>{} : image.cmd;
    args.insert(args.end(), rest.begin(), rest.end());
    return args;
}

} // namespace

ContainerSpec compile_run(const RunFlags& f) {
    ContainerSpec spec;
    if (!f.name.empty()) {
        check_name(f.name);
    }
    spec.nsrun.name = f.name;
    spec.hostname = f.hostname;
    spec.root = {f.image_process ? "" : f.rootfs, f.read_only};
    spec.process.args = f.image_process ? image_command(f) : f.command;
    if (spec.process.args.empty()) {
        throw nsrun::Error{"COMMAND is required: what should run inside the container?",
                           f.image_process ? "the image has no Entrypoint or Cmd: give COMMAND" : "see nsrun run --help"};
    }
    spec.process.terminal = f.tty;
    const std::string image_workdir = f.image_process ? f.image_process->working_dir : "";
    spec.process.cwd = !f.workdir.empty() ? f.workdir : !image_workdir.empty() ? image_workdir : "/";
    if (spec.process.cwd.front() != '/') {
        throw nsrun::Error{fmt::format("-w {}: the working directory must be an absolute path", f.workdir)};
    }
    if (!f.user.empty()) {
        spec.process.user = parse_user(f.user);
    } else if (f.image_process && !f.image_process->user.empty()) {
        spec.process.user = parse_user(f.image_process->user);
    }
    spec.process.env = default_env(f.hostname, f.tty);
    if (f.image_process) {
        for (const auto& entry : f.image_process->env) {
            if (entry.find('=') != std::string::npos) {
                apply_env(spec.process.env, entry); // the image's over the defaults, under -e
            }
        }
        spec.nsrun.image = f.image;
        spec.nsrun.image_id = f.image_id;
        spec.nsrun.image_layers = f.image_layers;
    }
    for (const auto& file : f.env_files) {
        for (const auto& entry : read_env_file(file)) {
            apply_env(spec.process.env, entry);
        }
    }
    for (const auto& entry : f.env) {
        apply_env(spec.process.env, entry);
    }
    for (const auto& v : f.volumes) {
        spec.mounts.push_back(parse_volume(v));
    }
    for (const auto& t : f.tmpfs) {
        spec.mounts.push_back(parse_tmpfs(t));
    }
    // Namespaces: UTS, PID, mount and cgroup always, then user, network, IPC as asked.
    spec.linux.namespaces = {{"uts", ""}, {"pid", ""}, {"mount", ""}, {"cgroup", ""}};
    plan_user_namespace(f.userns || !f.uid_ranges.empty() || !f.gid_ranges.empty(), f.uid_ranges, f.gid_ranges, spec);
    compile_network(f, spec);
    compile_ipc(f, spec);
    compile_security(f, spec);
    for (const auto& u : f.ulimits) {
        spec.process.rlimits.push_back(parse_ulimit(u));
    }
    spec.process.oom_score_adj = f.oom_score_adj;
    spec.linux.resources.memory = f.memory;
    spec.linux.resources.cpus = f.cpus;
    spec.linux.resources.cpu_weight = f.cpu_weight;
    spec.linux.resources.pids_limit = f.pids_limit;
    // The device cgroup: docker's defaults (--privileged: every device).
    spec.linux.resources.devices = f.privileged ? privileged_device_rules() : default_device_rules(f.tty);
    for (const auto& d : f.devices) {
        // The node in the container's /dev, and the rule that lets it be used (after docker's denial of all).
        auto [node, rule] = parse_device_flag(d);
        spec.linux.devices.push_back(std::move(node));
        if (!f.privileged) {
            spec.linux.resources.devices.push_back(std::move(rule));
        }
    }
    if (!f.privileged) {
        spec.linux.masked_paths = default_masked_paths();
        spec.linux.readonly_paths = default_readonly_paths();
    }
    spec.nsrun.bridge = f.bridge;
    spec.nsrun.subnet = f.subnet;
    spec.nsrun.state_dir = f.state_dir;
    for (const auto& p : f.publish) {
        spec.nsrun.publish.push_back(Publish::parse(p));
    }
    spec.nsrun.detach = f.detach;
    // A foreground run without --name leaves nothing behind (like the steps);
    // a named or detached one stays for ps/logs/inspect until `rm`.
    spec.nsrun.auto_remove = f.remove || (!f.detach && f.name.empty());
    spec.nsrun.interactive = f.interactive;
    spec.nsrun.init = f.init;
    spec.nsrun.stop_timeout = f.stop_timeout;
    return spec;
}

int cli_run(int argc, char** argv) {
    CLI::App app{"Create and run a new container from the lab rootfs (or --rootfs DIR).\n"
                 "In the foreground nsrun stays its parent and exits with its status; with -d a\n"
                 "monitor supervises it and nsrun prints its id.",
                 "nsrun run"};
    RunFlags flags;
    nsrun::cli::Command command;
    command.optional = true; // --image may bring its own
    nsrun::cli::add_command(app, command);
    add_run_options(app, flags);
    return nsrun::cli::run(app, command, argc, argv, [&] {
        flags.command = command.argv;
        if (!flags.image.empty()) {
            if (app.count("--rootfs") > 0) {
                throw nsrun::Error{"--image and --rootfs both give the root filesystem", "give one of them"};
            }
            resolve_image(flags);
        }
        ContainerSpec spec = compile_run(flags);
        if (spec.nsrun.detach) {
            return run_detached(spec);
        }
        return run_container(std::move(spec), {}, {}, Then::exit);
    });
}

ContainerSpec compile_exec(const RunFlags& f, const ContainerSpec& container) {
    ContainerSpec spec = container;
    if (!f.workdir.empty()) {
        if (f.workdir.front() != '/') {
            throw nsrun::Error{fmt::format("-w {}: the working directory must be an absolute path", f.workdir)};
        }
        spec.process.cwd = f.workdir;
    }
    if (!f.user.empty()) {
        spec.process.user = parse_user(f.user);
        spec.process.capabilities = capabilities_for(container.process.capabilities.bounding, spec.process.user);
    }
    if (f.tty) {
        apply_env(spec.process.env, "TERM=xterm");
    }
    for (const auto& entry : f.env) {
        apply_env(spec.process.env, entry);
    }
    return spec;
}
