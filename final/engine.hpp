/// @file engine.hpp
/// The engine: run a ContainerSpec.  It knows nothing of the command line.
///
/// A container is made by two processes that take turns (see container.cpp's
/// two ordered lists): the *parent* — the foreground runtime, or the monitor
/// of a detached container — plans, records and sets up the outside; the
/// *child*, cloned into new namespaces, sets up the inside and execs COMMAND.
#pragma once

#include "spec.hpp"
#include "state.hpp"

#include <functional>
#include <string>

/// Where the container's standard streams go; -1 keeps the parent's.
struct Stdio {
    int in = -1;
    int out = -1;
    int err = -1;
    /// With a terminal (-t) the container's streams are its pty; the parent
    /// copies what the pty shows to `terminal_out`: the user's terminal in
    /// the foreground, the log's pipe under a monitor (run -d -t).
    int terminal_out = 1;
    /// The pty's window size when the parent has no terminal to copy it
    /// from (run -d -t); 0 keeps the kernel's 0x0.
    unsigned short terminal_rows = 0;
    unsigned short terminal_cols = 0;
};

/// Called once, as soon as COMMAND has been exec'd (the record says running).
using OnStarted = std::function<void(const Record&)>;

/// Create and run the container described by `spec` in this process (which
/// becomes its parent and supervisor), wait for it to end, record its exit
/// status and OOM flag, tear down everything it had, and return docker's
/// exit status.  Setup errors throw nsrun::Error (125/126/127) after the
/// teardown.  A container with nsrun.auto_remove leaves no record behind.
/// `then`: what the calling process does once the container is gone.
enum class Then {
    carry_on, ///< it goes on working (the monitor: its logger thread still copies)
    exit,     ///< it only reports the status and exits: the memory the run
              ///< used is left for the exit to free (process_end.hpp)
};
int run_container(ContainerSpec spec, const Stdio& stdio = {}, const OnStarted& on_started = {},
                  Then then = Then::carry_on);

/// What `nsrun create ID` (the OCI interface) asks beyond the spec.
struct CreateRequest {
    std::string id;             ///< the caller's container id
    std::string bundle;         ///< absolute path of the bundle directory
    std::string pid_file;       ///< where the init's host pid is written ("" = nowhere)
    std::string console_socket; ///< process.terminal: the pty master goes there (SCM_RIGHTS)
    unsigned preserve_fds = 0;  ///< fds 3 … 3+N-1 pass to the container's process
};

/// `nsrun create`: the same setup as run_container — the same plan, record,
/// outside and inside lists — but the init stops before exec: it blocks on
/// the exec fifo (`STATE/containers/<id>/exec.fifo`) until `nsrun start`
/// opens it.  This process then exits: the init is not supervised by nsrun
/// (no lifeline to us, no monitor); the caller, a child subreaper (conmon,
/// the containerd shim), inherits it and waits for it.  Its stdio is this
/// process's, or a pty whose master is sent over `request.console_socket`.
/// On failure everything made is torn down and the error thrown.
void create_container(ContainerSpec spec, const CreateRequest& request);

/// OCI --pid-file: `pid` written atomically (a temporary file renamed), so
/// the caller, which may read it at once, never sees it half-written.
void write_pid_file(const std::string& path, pid_t pid);

/// The exec fifo of an OCI container.
std::string exec_fifo_path(const Store& store, const std::string& id);

/// In the child, near the end (run and exec): mark the runtime's
/// descriptors close-on-exec, cut the bounding set, become the spec's user,
/// enter the working directory (refused outside the root), take the spec's
/// environment and set the capability sets.
/// Without no_new_privs, the seccomp filter is loaded here, first, while
/// the process is still root (loading it needs CAP_SYS_ADMIN then).
void set_up_process(const Process& process, const std::optional<Seccomp>& seccomp);

/// In the child, last before exec: no_new_privs and the seccomp filter.
void lock_down_process(const Process& process, const std::optional<Seccomp>& seccomp);

/// OCI `exec --detach`: nsrun returns once the process exec'd, leaving it to
/// the caller (a child subreaper adopts it), as `create` does with the init.
struct ExecDetach {
    std::string pid_file;       ///< its host pid goes there ("" = nowhere)
    std::string console_socket; ///< with a terminal: where the pty master goes
};

/// `nsrun exec`: run `process` in the running container of `record` — in
/// every one of its namespaces and its cgroup.  Returns docker's status, or
/// 0 as soon as it exec'd when `detach` is given.
int exec_in_container(const Record& record, const Process& process, bool interactive,
                      const ExecDetach* detach = nullptr);

/// Undo every host resource of `record`, in the reverse order of creation:
/// nft entries, veth, lease, cgroups.  Idempotent and never throws: the
/// same code runs after a normal end, for `rm -f` and for a crashed
/// runtime's leftovers (`gc`).
void teardown(const Record& record) noexcept;

/// Reclaim what crashed runtimes and monitors left in `state_dir`: for every
/// container whose owner is gone without recording its end, teardown and
/// (auto-remove, or `all`) remove its record; garbled or half-made records
/// are removed when `all`.  Returns the ids reclaimed.
std::vector<std::string> collect_garbage(const std::string& state_dir, bool all);
