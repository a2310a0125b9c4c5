/// @file spec.hpp
/// ContainerSpec: everything a container is, in one value — shaped like the
/// OCI runtime spec's config.json (process, root, hostname, mounts, linux),
/// with what only nsrun has (the bridge, published ports, the lifecycle) as
/// typed extensions.  The command line compiles to it (cli_run.cpp), the
/// engine runs it, the state file stores it; nothing here knows of CLI11.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

/// One line of a uid_map/gid_map (OCI: linux.uidMappings).
struct IdRange {
    std::uint32_t inside = 0;  ///< containerID
    std::uint32_t outside = 0; ///< hostID
    std::uint32_t count = 0;   ///< size
    bool operator==(const IdRange&) const = default;
};

/// OCI process.user.
struct User {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::vector<std::uint32_t> additional_gids{}; ///< additionalGids: setgroups(2) before exec
    std::optional<std::uint32_t> umask{};       ///< none: inherit the runtime's
    bool operator==(const User&) const = default;
};

/// OCI process.rlimits[]: one setrlimit(2) before exec.
struct Rlimit {
    std::string type; ///< "RLIMIT_NOFILE", "RLIMIT_NPROC", … (getrlimit(2)'s names)
    std::uint64_t hard = 0;
    std::uint64_t soft = 0;
    bool operator==(const Rlimit&) const = default;
};

/// OCI process.consoleSize: the pty's size before the process starts.
struct ConsoleSize {
    unsigned height = 0; ///< rows
    unsigned width = 0;  ///< columns
    bool operator==(const ConsoleSize&) const = default;
};

/// OCI process.capabilities: five sets of capability names ("CAP_CHOWN", …).
/// bounding limits what any later execve can gain; permitted what the
/// process may use; effective what it uses now; inheritable what passes
/// through execve to a program with matching file capabilities; ambient
/// what passes through execve to any program.
struct Capabilities {
    std::vector<std::string> bounding;
    std::vector<std::string> effective;
    std::vector<std::string> inheritable;
    std::vector<std::string> permitted;
    std::vector<std::string> ambient;
    bool operator==(const Capabilities&) const = default;
};

/// OCI process.
struct Process {
    std::vector<std::string> args;
    std::vector<std::string> env; ///< "KEY=value"
    std::string cwd = "/";
    User user;
    bool terminal = false; ///< a pty (-t)
    Capabilities capabilities;
    bool no_new_privileges = false; ///< prctl(PR_SET_NO_NEW_PRIVS) before exec
    std::vector<Rlimit> rlimits{};  ///< applied in order before exec
    std::optional<int> oom_score_adj{}; ///< -1000…1000 into /proc/self/oom_score_adj; none: inherited
    std::optional<ConsoleSize> console_size{}; ///< with terminal: the pty's initial size
    bool operator==(const Process&) const = default;
};

/// OCI root.
struct Root {
    std::string path;
    bool readonly = false;
    bool operator==(const Root&) const = default;
};

/// OCI mounts[]: a bind (-v), a tmpfs (--tmpfs), or from config.json any of
/// bind, rbind, proc, sysfs, tmpfs, devpts, mqueue, cgroup, cgroup2.
struct Mount {
    std::string destination; ///< absolute path inside the container
    std::string type;        ///< "bind", "rbind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2"
    std::string source;      ///< host path for a bind; the fs's name for the others ("proc", "tmpfs", …)
    /// Flags ("ro", "rw", "rbind", "nosuid", "rprivate", …) and data
    /// ("mode=755", "size=64m", "newinstance", …) as config.json lists them.
    std::vector<std::string> options;
    bool operator==(const Mount&) const = default;
    [[nodiscard]] bool readonly() const;
};

/// OCI linux.namespaces[]: a type, and a path to join instead of creating one.
struct Namespace {
    std::string type; ///< "pid", "network", "mount", "ipc", "uts", "user", "cgroup"
    std::string path; ///< empty: a new namespace; else join this /proc/PID/ns/… file
    bool operator==(const Namespace&) const = default;
};

/// OCI linux.resources.devices[]: one rule of the device cgroup, applied
/// in order (the last matching rule decides).
struct DeviceRule {
    bool allow = false;
    std::string type = "a";              ///< "a" all, "c" char, "b" block
    std::optional<std::int64_t> major{}; ///< none: any (*)
    std::optional<std::int64_t> minor{}; ///< none: any (*)
    std::string access = "rwm";          ///< a subset of "rwm": read, write, mknod
    bool operator==(const DeviceRule&) const = default;
};

/// OCI linux.resources, the part nsrun sets.
struct Resources {
    std::optional<unsigned long long> memory; ///< bytes (memory.limit)
    std::optional<double> cpus;               ///< CPUs' worth of time per period
    std::optional<unsigned> cpu_weight;       ///< 1-10000 (v2's scale)
    std::optional<unsigned> pids_limit;
    /// memory.swap: memory + swap in bytes (OCI's meaning, v1's
    /// memory.memsw.limit_in_bytes); none: not limited beyond `memory`.
    std::optional<unsigned long long> memory_swap{};
    std::vector<DeviceRule> devices{}; ///< the device cgroup's rules
    [[nodiscard]] bool any() const { return memory || cpus || cpu_weight || pids_limit; }
    bool operator==(const Resources&) const = default;
};

/// OCI linux.devices[]: a device node made in the container's /dev.
struct DeviceNode {
    std::string path;              ///< absolute, inside the container ("/dev/fuse")
    std::string type = "c";        ///< "c" char, "b" block, "u" unbuffered char, "p" fifo
    std::int64_t major = 0;
    std::int64_t minor = 0;
    std::optional<std::uint32_t> file_mode{}; ///< permission bits; none: 0666
    std::optional<std::uint32_t> uid{};
    std::optional<std::uint32_t> gid{};
    /// The host's node to bind-mount at `path` where mknod is refused (a
    /// user namespace): --device's HOST; empty, the host's node at `path`.
    std::string host_path{};
    bool operator==(const DeviceNode&) const = default;
};

/// OCI linux.seccomp.syscalls[].args[]: compare argument `index` with
/// `value` (SCMP_CMP_MASKED_EQ: (arg & value) == value_two).
struct SeccompArg {
    unsigned index = 0;
    std::uint64_t value = 0;
    std::uint64_t value_two = 0;
    std::string op; ///< "SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_MASKED_EQ", …
    bool operator==(const SeccompArg&) const = default;
};

/// OCI linux.seccomp.syscalls[]: `action` for these calls when every arg matches.
struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;                  ///< "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", …
    std::optional<unsigned> errno_ret;   ///< for SCMP_ACT_ERRNO (default EPERM)
    std::vector<SeccompArg> args;
    bool operator==(const SeccompSyscall&) const = default;
};

/// OCI linux.seccomp: the filter loaded last before exec.
struct Seccomp {
    std::string default_action;
    std::optional<unsigned> default_errno_ret;
    std::vector<std::string> architectures; ///< "SCMP_ARCH_X86_64", …
    std::vector<SeccompSyscall> syscalls;
    /// Set when this is nsrun's default profile (default_seccomp_profile)
    /// for these capabilities.  A record then stores only this list, not the
    /// ~350 names: reading it back builds the same profile again; and the
    /// compiled program is cached under it.  Code that changes the rules of
    /// such a profile must reset it.
    std::optional<std::vector<std::string>> default_for{};
    bool operator==(const Seccomp&) const = default;
};

/// OCI linux.
struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdRange> uid_mappings;
    std::vector<IdRange> gid_mappings;
    Resources resources;
    std::string cgroups_path;           ///< `nsrun/<id>` under each hierarchy
    std::vector<std::string> masked_paths;
    std::vector<std::string> readonly_paths;
    std::optional<Seccomp> seccomp; ///< none: unconfined
    /// "net.ipv4.ip_forward" → "1": written under /proc/sys inside the container.
    std::map<std::string, std::string> sysctl{};
    /// The propagation of the container's / after pivot_root: "", "private",
    /// "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
    /// "runbindable" ("": nsrun's default, private).
    std::string rootfs_propagation{};
    std::vector<DeviceNode> devices{}; ///< linux.devices: nodes to make in /dev
    bool operator==(const Linux&) const = default;

    [[nodiscard]] const Namespace* find(const std::string& type) const;
    [[nodiscard]] bool has(const std::string& type) const { return find(type) != nullptr; }
};

/// OCI hooks.*[]: a program the runtime runs at a point of the lifecycle,
/// with the container's state JSON on its stdin.
struct Hook {
    std::string path;              ///< absolute path of the program (in the runtime's namespaces)
    std::vector<std::string> args{}; ///< argv, args[0] included
    std::vector<std::string> env{}; ///< "KEY=value"
    std::optional<int> timeout{};  ///< seconds (> 0); none: no timeout
    bool operator==(const Hook&) const = default;
};

/// OCI hooks, by the lifecycle point each list runs at (runtime.md).
struct Hooks {
    std::vector<Hook> prestart;        ///< deprecated: after the namespaces exist, before pivot_root (runtime's ns)
    std::vector<Hook> createRuntime;   ///< during create, after the namespaces exist (runtime's ns)
    std::vector<Hook> createContainer; ///< during create, before pivot_root (container's mount ns)
    std::vector<Hook> startContainer;  ///< during start, just before the user's program (inside)
    std::vector<Hook> poststart;       ///< after the user's program started (runtime's ns)
    std::vector<Hook> poststop;        ///< after the container is deleted (runtime's ns)
    [[nodiscard]] bool empty() const {
        return prestart.empty() && createRuntime.empty() && createContainer.empty() && startContainer.empty() &&
               poststart.empty() && poststop.empty();
    }
    bool operator==(const Hooks&) const = default;
};

/// --network: none (loopback only), host (no new namespace), veth (a pair),
/// bridge (a pair on the host's bridge), container (join another's).
enum class NetworkMode { none, host, veth, bridge, container };

/// -p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp].
struct Publish {
    std::string host_ip;              ///< "" = every address of the host
    std::uint16_t host_port = 0;
    std::uint16_t container_port = 0;
    std::string protocol = "tcp";     ///< "tcp" or "udp"
    bool operator==(const Publish&) const = default;

    /// Throws nsrun::Error naming the accepted form.
    static Publish parse(const std::string& text);
    /// "127.0.0.1:8080->80/tcp", as docker ps shows it.
    [[nodiscard]] std::string str() const;
};

/// What nsrun adds to the OCI spec (org.nsrun.* in config.json terms).
struct Extensions {
    std::string name;                      ///< --name, or empty
    NetworkMode network = NetworkMode::bridge;
    std::string network_container;         ///< --network container:NAME|ID
    std::string ipc_container;             ///< --ipc container:NAME|ID
    bool ipc_host = false;                 ///< --ipc host
    std::string bridge = "nsrun0";
    std::string subnet = "10.203.0.0/16";
    std::string state_dir = "/run/nsrun";
    std::vector<Publish> publish;
    bool rootless = false;                 ///< run by a user who is not root
    bool detach = false;                   ///< -d
    bool auto_remove = false;              ///< --rm (or a foreground run without --name)
    bool interactive = false;              ///< -i
    bool init = false;                     ///< --init
    unsigned stop_timeout = 10;            ///< --stop-timeout, seconds
    bool privileged = false;               ///< --privileged: every capability, no seccomp, no masks
    std::string image;                     ///< --image REF as given ("": root.path is a directory)
    std::string image_id;                  ///< that image's id (sha256:…): `image rm` refuses while used
    std::vector<std::string> image_layers; ///< its layers' directories, top first: overlayfs's lowerdirs
    /// The OCI bundle directory it was made from (absolute), "" for `nsrun
    /// run`: then mounts[] is complete (proc, sysfs, /dev… are listed) and
    /// the runtime adds no system mounts of its own.
    std::string bundle{};
    bool operator==(const Extensions&) const = default;
};

/// The whole container, OCI-shaped.
struct ContainerSpec {
    std::string oci_version = "1.0.2";
    Process process;
    Root root;
    std::string hostname = "container";
    std::vector<Mount> mounts;
    Linux linux;
    Hooks hooks{};
    std::map<std::string, std::string> annotations{}; ///< kept and shown by `state`, never interpreted
    Extensions nsrun;
    bool operator==(const ContainerSpec&) const = default;

    /// CLONE_NEW* flags of the namespaces to create at clone (those without
    /// a path).  Not the cgroup namespace: the child unshares it once the
    /// parent has moved it into its cgroup, so that cgroup is its root.
    [[nodiscard]] int clone_flags() const;
};

/// The network mode's name as --network spells it.
std::string to_string(NetworkMode mode);

void to_json(nlohmann::json& j, const ContainerSpec& spec);
/// `nlohmann::json(spec).dump(2)`, byte for byte, made faster: a whole seccomp
/// profile (config.json's or a file's: most of such a spec's text) is
/// written directly.  nsrun's default one is only its capabilities.
std::string spec_text(const ContainerSpec& spec);
void from_json(const nlohmann::json& j, ContainerSpec& spec);
/// Only what the OCI lifecycle reads of a spec once the container is made
/// (its state and its hooks): ociVersion, annotations, hooks; the rest is
/// left as ContainerSpec{} has it.
ContainerSpec lifecycle_spec_from_json(const nlohmann::json& j);
/// Only what `ps` shows of a spec: process.args and org.nsrun.publish.
ContainerSpec listing_spec_from_json(const nlohmann::json& j);
/// org.nsrun.publish → the published ports.
std::vector<Publish> publish_from_json(const nlohmann::json& a);
