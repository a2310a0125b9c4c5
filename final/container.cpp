// The container's life, start to end, as two ordered lists (like nsjail's
// contain.cc): what the parent does outside, what the child does inside.
// Each primitive lives in its own file with visible halves — a pure plan, a
// parent-side setup, a child-side setup, and a teardown from the record —
// and this file only orders them.
//
// Every host resource is written into the record (state.json) *before* it
// is made, so teardown() — after a normal end, for `rm`, or for `gc` after a
// crash — finds exactly what may exist.
#include "engine.hpp"

#include "hooks.hpp"
#include "oci.hpp"

#include "bridge.hpp"
#include "bundle_mounts.hpp"
#include "caps.hpp"
#include "cgroups.hpp"
#include "cpu_placement.hpp"
#include "devices.hpp"
#include "init.hpp"
#include "ipc.hpp"
#include "masks.hpp"
#include "mount.hpp"
#include "names.hpp"
#include "nat.hpp"
#include "netns.hpp"
#include "overlay.hpp"
#include "pid.hpp"
#include "process_end.hpp"
#include "rlimits.hpp"
#include "rootfs.hpp"
#include "seccomp.hpp"
#include "exec_step.hpp"
#include "sealed_exe.hpp"
#include "tty.hpp"
#include "userns.hpp"
#include "uts.hpp"
#include "volumes.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/container_id.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <climits>
#include <csignal>
#include <poll.h>
#include <fcntl.h>
#include <grp.h>
#include <optional>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace nl = nsrun::netlink;

namespace {

/// chdir into `cwd`, and make sure it is inside the container: a path such
/// as /proc/self/fd/N names whatever descriptor N is, which may be a
/// directory of the host (CVE-2024-21626, runc's leaked cgroup fd).  The
/// kernel tells: getcwd(2) fails with ENOENT for a directory outside the
/// process's root.
void enter_working_directory(const std::string& cwd) {
    const auto refuse = [&](const std::string& why) {
        return nsrun::Error{fmt::format("-w {}: {}", cwd, why), "give a directory that exists inside the container"};
    };
    if (::chdir(cwd.c_str()) == -1) {
        throw refuse(fmt::format("chdir: {}", nsrun::errno_text(errno)));
    }
    nsrun::explain::note("chdir({}) = 0", nsrun::explain::quote(cwd));
    char here[4096];
    if (::getcwd(here, sizeof here) == nullptr || here[0] != '/') {
        throw refuse("the directory is outside the container's root");
    }
}

/// setgroups(2) with process.user.additionalGids.
void set_supplementary_groups(const std::vector<std::uint32_t>& gids) {
    try {
        nsrun::sys::setgroups(std::vector<gid_t>(gids.begin(), gids.end()));
    } catch (const nsrun::SysError& e) {
        throw nsrun::Error{fmt::format("process.user.additionalGids: {}", e.what()),
                           e.hint().empty() ? "every group must exist in the container's user namespace" : e.hint()};
    }
}

/// What the parent computed before clone and the child reads (the child
/// gets a copy of the parent's memory).
struct Plan {
    UserNamespace userns;
    ParentLifeline* lifeline = nullptr; ///< the parent's pidfd (pid.hpp)
    std::optional<LinkPlan> link;
    std::string state_dir; ///< the container's directory (its /etc files)
    bool etc_files = false;
    std::optional<OverlayPlan> overlay; ///< --image: the rootfs is an overlay of its layers
    nsrun::UniqueFd overlay_mount;      ///< made by the parent (root), attached by the child
    /// OCI create: an O_PATH descriptor of the exec fifo, on which the init
    /// waits for `start` before exec; none for `run`.
    nsrun::UniqueFd exec_fifo;
    unsigned preserve_fds = 0; ///< OCI --preserve-fds
    /// OCI create with createContainer or startContainer hooks: the state
    /// they get (id, bundle, annotations), completed in the child; null otherwise.
    nlohmann::json hook_state;
    /// `run` without --init: the sealed stub COMMAND is exec'd through
    /// (exec_step.hpp); otherwise nsrun already runs from a sealed copy.
    std::optional<ExecStep> exec_step;
    /// The caller's CPUs: the child is set up on another than the parent's
    /// when one is free, COMMAND runs on them (cpu_placement.hpp).
    CpuPlacement cpus;
    /// The child makes its network namespace, not clone (netns.hpp).
    bool child_makes_netns = false;
};

// --- the child: the inside, in order ----------------------------------------

/// What the parent's `go` says besides "continue" when it made the
/// container's cgroup.
constexpr std::string_view cgroup_made = "cgroup made";

/// The parent's `go`: the outside is ready (the record saved, the cgroup
/// made and this process in it, uid/gid maps written, its end of the veth
/// moved in, the OCI runtime hooks run).  Awaited once, by the first step
/// that needs it: the steps before it (the mount namespace, the rootfs,
/// /proc, /sys, /dev) need nothing from outside, so they run while the
/// parent is still at work there — on a second CPU, a start is shorter by
/// what they overlap.
class Outside {
public:
    /// `planned`: the child's copy of the cgroup as planned before clone.
    Outside(nsrun::Handshake& handshake, const std::optional<Cgroup>& planned)
        : handshake_(handshake), planned_(planned) {}
    /// Block until the parent's `go` (at once if it came already).
    void ready() {
        if (!ready_) {
            cgroup_made_ = handshake_.wait_for_parent() == cgroup_made;
            ready_ = true;
        }
    }
    /// After `go`: the container's cgroup, if the parent made it (null when
    /// none was planned, or the machine had none to give and no limit asked
    /// for one: cgroups.hpp's plan_cgroup and Cgroup::make).
    const Cgroup* cgroup() {
        ready();
        return planned_ && cgroup_made_ ? &*planned_ : nullptr;
    }
    /// Once, after `go`: a new cgroup namespace when the spec lists one
    /// without a path (`nsrun run` always does; runc's and ctr's
    /// config.json often do not, and then the container shares its
    /// caller's).  Not at clone: by now the parent has moved us into our
    /// cgroup, which becomes the namespace's root.  Before any cgroup view:
    /// returns the cgroup to show (cgroup()).
    const Cgroup* enter_cgroup_namespace_if_listed(const ContainerSpec& spec) {
        ready();
        if (!in_cgroup_namespace_) {
            in_cgroup_namespace_ = true;
            const Namespace* ns = spec.linux.find("cgroup");
            if (ns && ns->path.empty()) {
                enter_cgroup_namespace();
            }
        }
        return cgroup();
    }

private:
    nsrun::Handshake& handshake_;
    const std::optional<Cgroup>& planned_;
    bool ready_ = false;
    bool cgroup_made_ = false;
    bool in_cgroup_namespace_ = false;
};

/// OCI: the state the init's own hooks read on stdin, with the init's pid as
/// the host sees it (runtime.md) — read from the host's /proc, which is still
/// mounted when this runs, first thing in the child.  Null without such hooks.
nlohmann::json init_hook_state(const Plan& plan) {
    nlohmann::json state = plan.hook_state;
    if (state.is_null()) {
        return state;
    }
    char self[32] = {};
    const ssize_t n = ::readlink("/proc/self", self, sizeof self - 1);
    state["pid"] = n > 0 ? std::atoi(self) : ::getpid();
    return state;
}

/// Run the init's own hooks (createContainer, startContainer) with `state`
/// and `status`: in the container's namespaces, from the init.  (OCI orders
/// createContainer after the runtime's createRuntime hooks, which run
/// before `go`: see run_create_container_hooks.)
void run_init_hooks(const std::vector<Hook>& hooks, const char* point, nlohmann::json state, const char* status) {
    if (hooks.empty()) {
        return;
    }
    state["status"] = status;
    run_hooks(hooks, point, state.dump());
}

/// OCI createContainer: after createRuntime, which the parent runs before `go`.
void run_create_container_hooks(const ContainerSpec& spec, const nlohmann::json& hook_state, Outside& outside) {
    if (!spec.hooks.createContainer.empty()) {
        outside.ready();
        run_init_hooks(spec.hooks.createContainer, "createContainer", hook_state, "creating");
    }
}

/// The namespaces to join instead of creating: --network/--ipc container:,
/// or a config.json namespace with a path (podman's and containerd's
/// network namespace, made and wired by CNI or netavark).
void join_namespaces(const ContainerSpec& spec) {
    for (const auto& ns : spec.linux.namespaces) {
        if (!ns.path.empty()) {
            nsrun::sys::setns(ns.path, 0);
        }
    }
}

/// An OCI bundle: config.json's mounts[] is the whole list (bundle_mounts.hpp),
/// made into the rootfs before pivot_root; then what covers them.
void mount_bundle_filesystems(const ContainerSpec& spec, const Plan& plan, const nlohmann::json& hook_state,
                              Outside& outside) {
    make_mounts_private();
    const std::string root = plan.userns.enabled ? "." : spec.root.path;
    refuse_symlinked_system_dirs(root);
    const auto sources = open_volume_sources(spec); // while the host's tree is reachable
    if (!plan.userns.enabled) {
        bind_rootfs(spec.root); // pivot_root wants a mount point; the mounts below go into it
    }
    // As runc: the mounts first, while the parent is at work outside (its
    // createRuntime hooks too); `go` before the first cgroup view.
    mount_bundle(spec, root, plan.userns.enabled, sources,
                 [&] { return outside.enter_cgroup_namespace_if_listed(spec); });
    outside.enter_cgroup_namespace_if_listed(spec); // if no mount asked for a view
    // OCI createContainer: after the mounts, before pivot_root (as runc).
    run_create_container_hooks(spec, hook_state, outside);
    if (plan.userns.enabled) {
        enter_rootfs_here();
    } else {
        enter_bound_rootfs(spec.root);
    }
    apply_bundle_settings(spec);
    mask_paths(spec.linux.masked_paths);
    make_paths_readonly(spec.linux.readonly_paths);
    make_root_readonly(spec.root);
}

void mount_filesystems(const ContainerSpec& spec, const Plan& plan, const nlohmann::json& hook_state,
                       Outside& outside) {
    if (!spec.nsrun.bundle.empty()) {
        mount_bundle_filesystems(spec, plan, hook_state, outside);
        return;
    }
    make_mounts_private();
    if (plan.overlay) {
        // Rootless: no mount was made for us; make it here, in our user namespace.
        const nsrun::UniqueFd own = plan.overlay_mount ? nsrun::UniqueFd{} : make_overlay(*plan.overlay);
        const nsrun::UniqueFd& overlay = plan.overlay_mount ? plan.overlay_mount : own;
        attach_overlay(overlay, plan.userns.enabled ? "." : plan.overlay->merged);
        if (plan.userns.enabled) {
            nsrun::sys::fchdir(overlay.get(), plan.overlay->merged); // "." becomes the overlay's root
        }
    }
    // In a user namespace the child starts in the rootfs (the parent's
    // RootfsAsWorkingDirectory) and mounts relative to ".": its host uid may
    // not be allowed to walk the rootfs's path (a 0750 home directory).
    const std::string root = plan.userns.enabled ? "." : spec.root.path;
    refuse_symlinked_system_dirs(root);
    if (plan.etc_files) {
        bind_etc_files(plan.state_dir, root);
    }
    const auto volume_sources = open_volume_sources(spec);
    const bool own_netns = spec.linux.has("network") && spec.linux.find("network")->path.empty();
    const auto& readonly = spec.linux.readonly_paths;
    const bool sys_readonly = std::find(readonly.begin(), readonly.end(), "/sys") != readonly.end();
    if (plan.userns.enabled) {
        // In a user namespace /proc, /sys and /dev are borrowed from the
        // host, whose tree is reachable only until pivot_root: mount first.
        mount_proc(root);
        mount_system_dirs(root, SystemDirs::borrowed, own_netns, sys_readonly);
        make_device_nodes(root, spec.linux.devices, /*bind_from_host=*/true);
        // OCI createContainer: in the container's mount namespace, before
        // pivot_root — the hook's path is the host's, what it mounts into
        // the rootfs the container keeps.
        run_create_container_hooks(spec, hook_state, outside);
        enter_rootfs_here();
    } else {
        run_create_container_hooks(spec, hook_state, outside);
        enter_rootfs(spec.root);
        mount_proc();
        mount_system_dirs("", SystemDirs::fresh, false, sys_readonly);
        make_device_nodes("", spec.linux.devices, /*bind_from_host=*/false);
    }
    mount_mqueue(spec);
    // From here on, the outside is ready.
    if (const Cgroup* cgroup = outside.enter_cgroup_namespace_if_listed(spec)) {
        cgroup->mount_view();
    }
    mount_volumes(spec, volume_sources);
    // Over everything, volumes included: what the container must not see or change.
    mask_paths(spec.linux.masked_paths);
    make_paths_readonly(spec.linux.readonly_paths);
    make_root_readonly(spec.root);
}

} // namespace

void set_up_process(const Process& process, const std::optional<Seccomp>& seccomp) {
    // None of the runtime's descriptors (state locks, netlink and nft
    // sockets, the bind sources) may survive the exec (CVE-2024-21626).
    nsrun::sys::cloexec_from(3);
    apply_process_limits(process); // with every capability still held
    if (seccomp && !process.no_new_privileges) {
        // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: while
        // still root, before the uid and the capabilities change (runc's order).
        load_seccomp(*seccomp);
    }
    restrict_bounding_set(process.capabilities);
    const bool change_user = process.user.uid != 0 || process.user.gid != 0;
    if (!change_user && !process.user.additional_gids.empty()) {
        set_supplementary_groups(process.user.additional_gids); // root, with config.json's groups
    }
    if (change_user) {
        nsrun::sys::set_keep_capabilities(true); // set_capabilities() decides what stays
        if (process.user.additional_gids.empty()) {
            nsrun::sys::clear_groups();
        } else {
            set_supplementary_groups(process.user.additional_gids);
        }
        nsrun::sys::setresgid(process.user.gid);
        nsrun::sys::setresuid(process.user.uid);
        nsrun::sys::set_keep_capabilities(false);
    }
    if (process.user.umask) {
        nsrun::sys::umask(static_cast<mode_t>(*process.user.umask & 0777));
    }
    enter_working_directory(process.cwd);
    ::clearenv();
    for (const auto& entry : process.env) {
        ::putenv(const_cast<char*>(entry.c_str()));
    }
    set_capabilities(process.capabilities);
}

void lock_down_process(const Process& process, const std::optional<Seccomp>& seccomp) {
    if (process.no_new_privileges) {
        nsrun::sys::set_no_new_privs();
        if (seccomp) {
            // Last: from here on only the handshake's send and execve run.
            load_seccomp(*seccomp);
        }
    }
}

namespace {

/// OCI create: find COMMAND now, so a wrong path fails `create` (127, 126)
/// as runc's does, not the later `start` — in runc's words, which podman
/// matches to choose its exit code ("executable file not found in $PATH",
/// "no such file or directory": 127; "permission denied": 126).  Returns its path.
std::string check_command_exists(const std::vector<std::string>& argv) {
    const std::string& name = argv.front();
    const auto refuse = [&](const std::string& why, int status) {
        return nsrun::Error{fmt::format("exec: \"{}\": {}", name, why),
                            "check process.args[0] in config.json: a path inside the rootfs, or a program on the "
                            "container's PATH",
                            status};
    };
    const CommandLookup found = look_up_command(name);
    if (found.error == 0) {
        return found.path;
    }
    if (name.find('/') == std::string::npos) {
        throw refuse("executable file not found in $PATH", nsrun::exit_code::not_found);
    }
    if (found.error == EACCES) {
        throw refuse("permission denied", nsrun::exit_code::cannot_execute);
    }
    throw refuse(fmt::format("stat {}: no such file or directory", name), nsrun::exit_code::not_found);
}

/// OCI create, last in the init: tell `create` we are ready, block until
/// `start` opens the fifo, run the startContainer hooks, then exec COMMAND.
/// The fifo is reopened through /proc/self/fd: its path is the host's,
/// outside our root.  What the init writes into it is `start`'s answer: "0"
/// (COMMAND is exec'd next) or "1" and the error (a startContainer hook failed).
[[noreturn]] void wait_for_start_then_exec(const ContainerSpec& spec, const Plan& plan, nsrun::Handshake& handshake,
                                           const nlohmann::json& hook_state) {
    for (unsigned fd = 3; fd < 3 + plan.preserve_fds; ++fd) {
        (void)::fcntl(static_cast<int>(fd), F_SETFD, 0); // set_up_process marked every fd close-on-exec
    }
    const std::string command = check_command_exists(spec.process.args);
    handshake.ready(); // `create` returns now; its end of the handshake closes
    if (plan.exec_step) {
        plan.exec_step->exec_after_start(spec.process.args, command, plan.exec_fifo.get()); // the stub waits, not nsrun
    }
    const std::string fifo = fmt::format("/proc/self/fd/{}", plan.exec_fifo.get());
    const int start = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC); // blocks until `start` opens it
    if (start == -1) {
        const std::string why = nsrun::errno_text(errno);
        std::fprintf(stderr, "nsrun: error: the init could not wait for start on %s: %s\n", fifo.c_str(), why.c_str());
        ::_exit(nsrun::exit_code::runtime_error);
    }
    try {
        run_init_hooks(spec.hooks.startContainer, "startContainer", hook_state, "created");
    } catch (const nsrun::Error& error) {
        // "1", the error, NUL, its hint: one write under PIPE_BUF (atomic), read whole by `start`.
        const std::string answer = fmt::format("1{}", error.what()) + '\0' + error.hint();
        (void)!::write(start, answer.data(), std::min<std::size_t>(answer.size(), PIPE_BUF));
        std::fprintf(stderr, "nsrun: error: %s\n", error.what()); // the container's stderr: its log
        ::_exit(error.exit_status());
    }
    if (::write(start, "0", 1) != 1) {
        const std::string why = nsrun::errno_text(errno);
        std::fprintf(stderr, "nsrun: error: the init could not tell start on %s: %s\n", fifo.c_str(), why.c_str());
        ::_exit(nsrun::exit_code::runtime_error);
    }
    ::close(start);
    std::vector<char*> args;
    for (const auto& arg : spec.process.args) {
        args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    const int err = errno;
    // Nobody reads the handshake any more: the container's stderr is where this goes.
    std::fprintf(stderr, "nsrun: error: exec %s: %s\n", args[0], nsrun::errno_text(err).c_str());
    ::_exit(err == ENOENT ? nsrun::exit_code::not_found : nsrun::exit_code::cannot_execute);
}

void redirect_stdio(const Stdio& stdio) {
    for (const auto& [from, to] : {std::pair{stdio.in, 0}, std::pair{stdio.out, 1}, std::pair{stdio.err, 2}}) {
        if (from >= 0 && ::dup2(from, to) == -1) {
            throw nsrun::SysError(fmt::format("dup2({}, {})", from, to), errno);
        }
    }
}

int container_main(const ContainerSpec& spec, const Plan& plan, const std::optional<Cgroup>& cgroup,
                   const Stdio& stdio, nsrun::Handshake& handshake, TerminalChannel* terminal,
                   const SignalForwarder& signals) {
    handshake.in_child();
    try {
        // The container dies with its supervisor (runtime or monitor): a
        // killed supervisor never leaves it running unrecorded.  An OCI
        // container has none: `create` exits and the caller adopts it.
        if (!plan.exec_fifo) {
            plan.lifeline->die_with_parent();
        }
        const nlohmann::json hook_state = init_hook_state(plan); // before any mount: the host's /proc
        if (!plan.userns.rootless) {
            // Until it execs, this process is nsrun: its /proc/PID/exe,
            // fd/ and mem are the runtime's, closed to the container's root
            // (no CAP_SYS_PTRACE). Rootless, the runtime is the user's own.
            nsrun::sys::set_not_dumpable();
        }
        signals.restore_mask_in_child();
        Outside outside{handshake, cgroup};
        if (plan.userns.enabled) {
            outside.ready(); // become_root: the parent writes our uid/gid maps
        }
        become_root(plan.userns);
        join_namespaces(spec);
        if (plan.child_makes_netns) {
            make_network_namespace();
        }
        if (plan.link) {
            outside.ready(); // the parent moves our end of the veth in
        }
        configure_inside(spec, plan.link ? &*plan.link : nullptr);
        set_hostname(spec);
        mount_filesystems(spec, plan, hook_state, outside);
        outside.ready(); // at the latest: what follows changes this process, which becomes COMMAND
        plan.cpus.give_back();
        redirect_stdio(stdio);
        if (terminal) {
            terminal->become_controlling_terminal();
        }
        set_up_process(spec.process, spec.linux.seccomp);
        lock_down_process(spec.process, spec.linux.seccomp);
        if (plan.exec_fifo) {
            wait_for_start_then_exec(spec, plan, handshake, hook_state);
        }
        if (spec.nsrun.init) {
            run_init(spec.process.args, handshake); // PID 1 stays; COMMAND runs as its child
        }
        if (plan.exec_step) {
            plan.exec_step->exec(spec.process.args, handshake);
        }
        nsrun::exec_command(spec.process.args, handshake);
    } catch (const nsrun::Error& error) {
        handshake.fail(error);
    } catch (const std::exception& error) {
        // Never let an unexpected failure read as "exec worked".
        handshake.fail(nsrun::Error{fmt::format("container setup failed: {}", error.what())});
    }
}

// --- the parent: the outside, in order --------------------------------------

/// The record of the container being made, saved after every change.  Its
/// first save claims the container's name: until then it holds `names`,
/// the lock under which the name was checked, and `own`, the container's
/// lock from Store::create (so a sweep or `gc` leaves the directory without
/// a record alone).
class Recorder {
public:
    Recorder(const Store& store, Record& record, nsrun::fs::FileLock names, nsrun::fs::FileLock own)
        : store_(store), record_(record), names_(std::move(names)), own_(std::move(own)) {}
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    ~Recorder() { release_first_locks(); }
    Record& operator*() { return record_; }
    Record* operator->() { return &record_; }
    void save() {
        if (own_) {
            store_.save(record_);
            release_first_locks();
            return;
        }
        const auto lock = store_.lock(record_.id);
        store_.save(record_);
    }

private:
    /// Released explicitly: the child, cloned while they were held, shares
    /// their descriptors until it execs (closing ours alone would not
    /// release them).
    void release_first_locks() noexcept {
        for (auto* lock : {&own_, &names_}) {
            if (*lock) {
                try {
                    (*lock)->release();
                } catch (const std::exception&) {
                    // closing it below is all that is left to do
                }
                lock->reset();
            }
        }
    }

    const Store& store_;
    Record& record_;
    std::optional<nsrun::fs::FileLock> names_;
    std::optional<nsrun::fs::FileLock> own_;
};

/// `--network container:X`, `--ipc container:X`: the other container must run.
std::string namespace_path_of(const Store& store, const std::string& name_or_id, const char* ns, const char* flag) {
    const std::string id = store.resolve(name_or_id);
    const Loaded other = store.load(id);
    if (!other.record || other.record->status != Status::running || !nsrun::is_alive(other.record->init)) {
        throw nsrun::Error{fmt::format("{} container:{}: the container is not running", flag, name_or_id),
                           "start it first; only a running container's namespace can be joined"};
    }
    return fmt::format("/proc/{}/ns/{}", other.record->init.pid, ns);
}

/// Resolve joins to /proc/PID/ns paths (a running container's PID 1).
void resolve_joins(const Store& store, ContainerSpec& spec) {
    for (auto& ns : spec.linux.namespaces) {
        if (ns.type == "network" && spec.nsrun.network == NetworkMode::container) {
            ns.path = namespace_path_of(store, spec.nsrun.network_container, "net", "--network");
        }
        if (ns.type == "ipc" && !spec.nsrun.ipc_container.empty()) {
            ns.path = namespace_path_of(store, spec.nsrun.ipc_container, "ipc", "--ipc");
        }
    }
}

/// Before anything is made: every check that can fail with 125.
void check_outside(const ContainerSpec& spec, const UserNamespace& userns) {
    if (spec.nsrun.image_layers.empty()) {
        check_rootfs(spec.root);
        check_rootfs_access(userns, spec.root);
    } else {
        check_image_layers(spec);
    }
    check_volumes(spec);
    check_process_limits(spec.process);
    warn_unhonoured_limits(userns, spec.linux.resources);
}

/// A unique name: refused (125) before anything is made if another
/// container has it.  Runs under the names lock.
void check_unique_name(const Store& store, const std::string& name) {
    if (name.empty()) {
        return;
    }
    for (const auto& c : store.list_heads()) {
        if (c.record && c.record->name == name) {
            throw nsrun::Error{fmt::format("the name \"{}\" is already in use by container {}", name, c.id),
                               fmt::format("remove that container (nsrun rm -f {}) or choose another --name", name)};
        }
    }
}

/// The exit status and OOM flag, into the record.  Not saved here: EndOfLife
/// saves it after the teardown, so a container shown as exited (ps, wait,
/// inspect) has no host resource left.
int finish(Record& record, int wait_status, const std::optional<Cgroup>& cgroup) {
    const int status = cgroup ? cgroup->exit_status(wait_status) : nsrun::exit_status_of(wait_status);
    record.status = Status::exited;
    record.exit_code = status;
    record.oom_killed = cgroup && cgroup->oom_killed();
    record.finished = now_rfc3339();
    return status;
}

/// Teardown and, for auto-remove, the record; otherwise record that the
/// host resources are gone.  Runs on every exit path of run_container.
class EndOfLife {
public:
    EndOfLife(const Store& store, Record& record, Then then) : store_(store), record_(record), then_(then) {}
    EndOfLife(const EndOfLife&) = delete;
    EndOfLife& operator=(const EndOfLife&) = delete;
    /// OCI create succeeded: the container lives on, `delete` ends it.
    void keep() noexcept { kept_ = true; }
    ~EndOfLife() {
        if (kept_) {
            return;
        }
        end();
        if (then_ == Then::exit) {
            nsrun::nothing_more_to_free(); // the container and all it had are gone
        }
    }

private:
    void end() noexcept {
        teardown(record_);
        try {
            const auto lock = store_.lock(record_.id);
            if (record_.spec.nsrun.auto_remove) {
                store_.remove(record_.id);
                return;
            }
            record_.resources = {};
            if (record_.status != Status::exited) {
                record_.status = Status::exited; // setup failed: it never ran
                record_.exit_code = nsrun::exit_code::runtime_error;
                record_.finished = now_rfc3339();
            }
            store_.save(record_);
        } catch (const std::exception& e) {
            nsrun::cli::print_warning(fmt::format("could not update the state of {}: {}", record_.id, e.what()));
        }
    }

    const Store& store_;
    Record& record_;
    Then then_;
    bool kept_ = false;
};

} // namespace

void write_pid_file(const std::string& path, pid_t pid) {
    const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
    const std::string text = std::to_string(pid);
    const nsrun::UniqueFd file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
    if (!file || ::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        const int err = errno;
        throw nsrun::Error{fmt::format("--pid-file {}: writing {}: {}", path, tmp, nsrun::errno_text(err)),
                           "give --pid-file a path in a writable directory"};
    }
    if (::rename(tmp.c_str(), path.c_str()) == -1) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw nsrun::Error{fmt::format("rename({}, {}): {}", tmp, path, nsrun::errno_text(err)),
                           "give --pid-file a path in a writable directory"};
    }
}

namespace {

/// Whether nsrun's own code runs inside the container after setup, where
/// the container's processes could reach it: an --init PID 1, and an OCI
/// init that runs startContainer hooks or joins an existing PID namespace.
/// Then nsrun runs from its whole sealed copy; otherwise COMMAND is exec'd
/// through the sealed stub (exec_step.hpp).
bool nsrun_code_stays_inside(const ContainerSpec& spec, bool oci) {
    if (!oci) {
        return spec.nsrun.init;
    }
    const Namespace* pid = spec.linux.find("pid");
    return !spec.hooks.startContainer.empty() || (pid && !pid->path.empty());
}

/// Run (`request` null) or create (OCI) a container: one path, two ends.
int make_container(ContainerSpec spec, const Stdio& stdio, const OnStarted& on_started,
                   const CreateRequest* request, Then then) {
    Store store(spec.nsrun.state_dir);
    // Plan: pure decisions and checks, nothing made yet.
    if (!request) {
        collect_garbage(spec.nsrun.state_dir, false);
    }
    resolve_joins(store, spec);
    Plan plan;
    plan.cpus = CpuPlacement::of_caller(); // first look at the machine's CPUs (cpu_placement.hpp)
    plan.userns = user_namespace_of(spec);
    check_outside(spec, plan.userns);
    auto handshake = nsrun::Handshake::create();
    SignalForwarder signals;
    const PortReservations ports{spec}; // 125 on a conflict, before anything starts

    // Record: the container's directory and its first record.
    Record record;
    record.id = request ? request->id : nsrun::make_container_id();
    record.name = spec.nsrun.name;
    const std::string cgroups_path = spec.linux.cgroups_path; // config.json's; "": nsrun's own nsrun/<id>
    if (cgroups_path.empty()) {
        spec.linux.cgroups_path = "/nsrun/" + record.id;
    }
    record.created = now_rfc3339();
    record.owner = ProcessId::self();
    if (request) {
        record.oci = true;
        record.bundle = request->bundle;
    }
    nsrun::fs::make_dirs(store.root(), 0711);
    auto names = nsrun::fs::FileLock(store.root() + ".lock"); // until the first save (Recorder)
    check_unique_name(store, spec.nsrun.name);
    if (request && nsrun::fs::exists(store.dir_of(record.id))) {
        throw nsrun::Error{fmt::format("container {} already exists", record.id),
                           fmt::format("choose another id, or remove it first: nsrun delete --force {}", record.id)};
    }
    record.spec = spec;
    auto own = store.create(record.id);
    EndOfLife end{store, record, then};
    // The first record is saved before the first resource is made: with
    // `--network none` and no image, only after clone, while the child
    // makes its mounts (the cgroup is made then too).
    Recorder rec{store, record, std::move(names), std::move(own)};
    plan.state_dir = store.dir_of(record.id);
    if (!spec.nsrun.image_layers.empty()) {
        rec.save();
        confirm_image_layers(spec); // the record names the layers: image rm keeps them from now on
        // --image: "/" is an overlay of the image's layers and an upper
        // directory of its own, in the container's directory (gone with it).
        plan.overlay = plan_overlay(spec, plan.state_dir);
        spec.root.path = rec->spec.root.path = plan.overlay->merged;
        rec.save();
        make_overlay_dirs(*plan.overlay, outside_root_uid(plan.userns), outside_root_gid(plan.userns));
        if (!plan.userns.rootless) {
            plan.overlay_mount = make_overlay(*plan.overlay);
        }
    }

    // The outside, in order: each resource recorded, then made.  The
    // cgroup only planned yet: made after clone (the child's copy of the
    // plan knows the views to mount).
    std::optional<Cgroup> cgroup;
    if (plan.userns.may_use_cgroups()) {
        // The nodes config.json (or --device) adds to /dev are usable: allowed by the device cgroup.
        Resources limits = spec.linux.resources;
        limits.devices = with_device_nodes_allowed(limits.devices, spec.linux.devices);
        cgroup = plan_cgroup(record.id, limits, [] { return detect_cgroup_driver(); }, cgroups_path,
                             /*every_hierarchy=*/request != nullptr); // OCI: blkio, cpuset, freezer… too, as runc
    }
    std::optional<nl::Cidr> address;
    if (spec.nsrun.network == NetworkMode::bridge) {
        address = join_bridge(spec, record.owner, [&](const std::string& lease, const nl::Cidr& leased) {
            rec->resources.lease = lease;
            rec->resources.address = leased.str();
            rec.save();
        });
        plan.link = plan_bridge_port(spec, record.id, *address);
    } else if (spec.nsrun.network == NetworkMode::veth) {
        plan.link = plan_veth(record.id);
        rec->resources.address = plan.link->container_address.str();
    }
    if (plan.link) {
        rec->resources.veth = plan.link->host_name;
        rec.save();
    }
    if (!plan.userns.rootless && !request) { // OCI: the caller's mounts bring /etc/hosts, if any
        write_etc_files(plan.state_dir, spec.hostname, plan.link ? plan.link->container_address.ip() : "");
        plan.etc_files = true;
    }
    if (request) {
        const std::string fifo = exec_fifo_path(store, record.id);
        // 0622 exactly, not what nsrun's umask leaves of it (0600 under
        // 022): the init opens it for writing after it became
        // process.user, who may be anyone.
        nsrun::sys::mkfifo(fifo, 0622);
        nsrun::sys::chmod(fifo, 0622);
        plan.exec_fifo = nsrun::sys::open(fifo, O_PATH | O_CLOEXEC);
        plan.preserve_fds = request->preserve_fds;
    }
    std::optional<TerminalChannel> terminal;
    if (spec.process.terminal) {
        terminal.emplace();
    }

    ParentLifeline lifeline;
    plan.lifeline = &lifeline;
    std::optional<RootfsAsWorkingDirectory> in_rootfs; // the child starts there (rootfs.hpp)
    if (plan.userns.enabled) {
        in_rootfs.emplace(spec.root);
    }
    if (request && !(spec.hooks.createContainer.empty() && spec.hooks.startContainer.empty())) {
        plan.hook_state = oci_state(record); // the child adds its pid and the status
    }
    if (spec.linux.seccomp) {
        // Compiled (or read from the cache) here, loaded by the child.
        prepare_seccomp(*spec.linux.seccomp, spec.nsrun.state_dir + "/seccomp");
    }
    if (ExecStep::available() && ::geteuid() == 0 && !nsrun_code_stays_inside(spec, request != nullptr)) {
        plan.exec_step = ExecStep::make(); // nsrun did not re-exec from a sealed copy (main.cpp, create_container)
    }
    plan.cpus.look_again();
    plan.child_makes_netns =
        child_makes_network_namespace(spec, plan.link.has_value(), plan.userns.enabled, request != nullptr);
    const int clone_flags = spec.clone_flags() & ~(plan.child_makes_netns ? CLONE_NEWNET : 0);
    nsrun::Child child = nsrun::clone_child(clone_flags, [&] {
        return container_main(spec, plan, cgroup, stdio, handshake, terminal ? &*terminal : nullptr, signals);
    });
    plan.cpus.start_elsewhere(child.pid()); // first: the child may be waiting for this CPU
    in_rootfs.reset(); // the parent goes back
    handshake.in_parent();
    plan.overlay_mount.reset(); // the child has its copy
    try {
        rec->init = identity_of(child.pid());
        if (request) {
            rec->owner = rec->init; // nobody of ours supervises it: it is its own owner
        }
        // The cgroup, recorded and then made, while the child makes its
        // mounts (the first save, if none came before, claims the name).
        if (cgroup && !cgroup->make([&](const CgroupPlan& cg) {
                rec->resources.cgroups = cg.directories;
                rec->resources.cgroup_parents = cg.parents;
                rec.save();
            })) {
            cgroup.reset(); // none to give, and none needed: the child hears so with `go`
        }
        if (cgroup) {
            cgroup->add_process(child.pid());
        } else {
            rec.save(); // the init, and with no cgroup saving it, maybe the first record
        }
        write_id_maps(plan.userns, child.pid());
        if (plan.link) {
            attach_veth(*plan.link, child.pid());
        }
        if (address) {
            enslave_to_bridge(spec, *plan.link);
            rec->resources.nft_elements = plan_port_elements(spec);
            rec.save();
            add_port_mapping(spec, *address);
        }
        if (request) {
            // The namespaces exist and process.args does not run yet (the
            // init makes its mounts meanwhile, as runc's does): prestart
            // (deprecated) and createRuntime, in the runtime's namespaces.
            // A failure fails create.
            nlohmann::json state = oci_state(record);
            state["status"] = "creating";
            state["pid"] = child.pid();
            run_hooks(spec.hooks.prestart, "prestart", state.dump());
            run_hooks(spec.hooks.createRuntime, "createRuntime", state.dump());
        }
    } catch (const nsrun::Error&) {
        // The child mounts its filesystems meanwhile (Outside): if that
        // failed first, a step here (a hook given a dead init's pid, too)
        // failed on a process that is gone, and the child's own report is
        // the error to show.
        if (auto reported = handshake.reported_failure()) {
            throw std::move(*reported);
        }
        throw;
    }
    handshake.release_child(cgroup ? cgroup_made : std::string_view{});
    if (request) {
        if (terminal) {
            send_console(request->console_socket, terminal->receive_master());
        }
        try {
            handshake.expect(nsrun::Handshake::Message::ready); // throws the child's own report if it failed
        } catch (const nsrun::Error&) {
            child.wait();
            throw;
        }
        rec->status = Status::created;
        rec.save();
        if (!request->pid_file.empty()) {
            write_pid_file(request->pid_file, child.pid());
        }
        end.keep();
        child.reaped(); // not ours to wait for: the caller adopts it when we exit
        return 0;
    }
    std::optional<TerminalSession> session;
    if (terminal) {
        session.emplace(terminal->receive_master(), spec.nsrun.interactive, stdio.terminal_out,
                        WindowSize{stdio.terminal_rows, stdio.terminal_cols});
    }
    if (auto failure = handshake.wait_for_exec()) {
        child.wait();
        throw *failure;
    }
    rec->status = Status::running;
    rec->started = now_rfc3339();
    rec.save(); // under the container's lock
    if (on_started) {
        on_started(record);
    }
    const int wait_status = session ? session->relay(child, signals) : signals.wait_forwarding(child);
    return finish(record, wait_status, cgroup);
}

} // namespace

int run_container(ContainerSpec spec, const Stdio& stdio, const OnStarted& on_started, Then then) {
    return make_container(std::move(spec), stdio, on_started, nullptr, then);
}

void create_container(ContainerSpec spec, const CreateRequest& request) {
    // The caller made the network namespace (a path) or wants the host's: no veth, no bridge.
    const Namespace* net = spec.linux.find("network");
    spec.nsrun.network = net ? NetworkMode::none : NetworkMode::host;
    spec.nsrun.auto_remove = true; // a failed create leaves nothing behind, as runc's; success keeps the record
    spec.nsrun.init = false;
    allow_runtime_devices(spec.linux);
    if (!ExecStep::available() || nsrun_code_stays_inside(spec, true)) {
        run_from_sealed_copy(); // re-exec now, before anything is made (main.cpp did not)
    }
    if (spec.process.terminal && request.console_socket.empty()) {
        throw nsrun::Error{"process.terminal is true but no --console-socket was given",
                           "give --console-socket SOCKET (where the pty master is sent), or set terminal to false"};
    }
    (void)make_container(std::move(spec), Stdio{}, {}, &request, Then::carry_on);
}

std::string exec_fifo_path(const Store& store, const std::string& id) { return store.dir_of(id) + "/exec.fifo"; }

namespace {

/// SIGKILL the process `process` names, if it still is that process, and
/// wait (at most 5 s) until it has exited: its pidfd turns readable only
/// after the kernel took it out of its cgroups (cgroup_exit() comes before
/// the exit notification in do_exit()), so the rmdirs that follow do not
/// meet EBUSY and sleep.  (`delete --force` right after `start` met it one
/// time in ten, and slept 10 ms.)
void kill_and_wait(const nsrun::ProcessIdentity& process) noexcept {
    try {
        const nsrun::UniqueFd pidfd = nsrun::open_pidfd(process);
        if (!pidfd) {
            return;
        }
        nsrun::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
        pollfd exited{pidfd.get(), POLLIN, 0};
        const int ready = ::poll(&exited, 1, 5000);
        nsrun::explain::note("poll(pidfd of {}) = {}: {}", process.pid, ready,
                             ready == 1 ? "it has exited" : "still there after 5 s");
    } catch (const std::exception&) {
        // the cgroups' own kill and retry below remain
    }
}

} // namespace

void teardown(const Record& record) noexcept {
    const HostResources& r = record.resources;
    if (r.empty()) {
        return;
    }
    nsrun::explain::note("teardown of {} from its record", record.id);
    kill_and_wait(record.init);
    remove_port_mapping(r.nft_elements);
    remove_veth(r.veth);
    release_lease(r.lease, record.owner);
    remove_cgroups(r.cgroups, r.cgroup_parents);
}

std::vector<std::string> collect_garbage(const std::string& state_dir, bool all) {
    const Store store(state_dir);
    std::vector<std::string> reclaimed;
    for (const auto& id : store.ids()) {
        if (!all && !store.may_own_resources(id)) {
            continue; // exited with nothing left: `gc` itself still reads it
        }
        auto lock = nsrun::fs::FileLock::try_acquire(store.dir_of(id) + "/lock");
        if (!lock) {
            continue; // being made or changed right now
        }
        // Every start sweeps: a running container's record is read only as far
        // as its owner (~0.5 ms a container less than the whole record).
        // (`gc` reads it whole: it also reclaims a record garbled past its head.)
        if (const auto head = all ? std::nullopt : store.load_head(id);
            head && (nsrun::is_alive(head->owner) || head->oci)) {
            continue; // its supervisor is on it; an OCI container's end is `delete`'s
        }
        const Loaded fresh = store.load(id); // under the lock
        if (!fresh.record) {
            // Garbled (reclaimed by `gc` only), or a directory whose first
            // record was never written: its creator holds the names lock from
            // mkdir until that record is saved, so a free names lock means the
            // creator died (killed mid-write, it may leave a state.json.tmp.*).
            const bool never_written = !nsrun::fs::exists(fresh.dir + "/state.json") &&
                                       nsrun::fs::FileLock::try_acquire(store.root() + ".lock").has_value();
            if (all || never_written) {
                store.remove(id);
                reclaimed.push_back(id);
            }
            continue;
        }
        Record record = *fresh.record;
        if (nsrun::is_alive(record.owner) || record.oci) {
            continue; // its supervisor is on it; an OCI container's end is `delete`'s
        }
        // The owner is gone: whatever it did not undo, undo now.
        teardown(record);
        if (record.spec.nsrun.auto_remove || (all && record.status != Status::exited)) {
            store.remove(id);
            reclaimed.push_back(id);
        } else if (!record.resources.empty()) {
            record.resources = {};
            store.save(record);
        }
    }
    // A ".new-ID" whose lock is free was left by a runtime killed before its
    // container got its name: no other record points at it, so every sweep
    // (the one each run starts with, too) removes it.
    store.remove_unfinished();
    if (all) {
        sweep_stale_leases(state_dir);
    }
    return reclaimed;
}
