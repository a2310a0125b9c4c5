/// @file exec_step.hpp
/// The last exec of `nsrun run`, through a sealed stub (CVE-2019-5736).
///
/// The kernel resolves a script's `#!/proc/self/exe` line in the process
/// that execs the script: if that process were still nsrun's image, the
/// container would get a process running the host's nsrun binary, and a
/// handle to it that root inside can reopen for writing.  runc's answer is
/// to re-exec the whole runtime from a sealed memfd copy first; that costs
/// a 3 MB copy, a second exec and a second dynamic link on every start.
///
/// `run` without `--init` needs less: while nsrun's code runs in the
/// container, the container's PID namespace holds that one process and
/// nothing can reach it (it is not dumpable either), so only the final exec
/// matters.  It goes through a program of nsrun's own, `stub/exec_stub.cpp`:
/// freestanding, 3 KB, carried inside nsrun's image and copied into a sealed
/// memfd per container.  nsrun execs the stub, the stub execs COMMAND, and a
/// `#!/proc/self/exe` script can only ever reach the sealed stub.
/// `create` uses it too: the init execs the stub as soon as it is set up,
/// and the stub is what waits for `start`.  `--init` (nsrun's code is PID 1
/// for the container's whole life), `exec` (it joins a PID namespace with
/// processes in it), and a `create` whose init must run startContainer hooks
/// or joins an existing PID namespace still run from the whole sealed copy
/// (sealed_exe.hpp).
#pragma once

#include <nsrun/fd.hpp>
#include <nsrun/handshake.hpp>

#include <string>
#include <vector>

/// Where COMMAND's file is, found as execvp finds it: a name with a slash is
/// a path; any other is looked up on the PATH of this process's environment
/// (execvp's default, /bin:/usr/bin, without one), skipping candidates that
/// cannot be executed.  `path` is set, or `error` is ENOENT (nowhere) or
/// EACCES (only a directory or a file without execute permission).
struct CommandLookup {
    std::string path;
    int error = 0;
};
CommandLookup look_up_command(const std::string& name);

class ExecStep {
public:
    /// Whether this build carries the stub (its system calls are written for
    /// x86-64): where it does not, nsrun runs from its whole sealed copy.
    static constexpr bool available() {
#if defined(NSRUN_EXEC_STUB) || defined(NSRUN_DOXYGEN)
        return true;
#else
        return false;
#endif
    }

    /// Copy the stub into a sealed memfd (in the parent, before clone).
    static ExecStep make();

    /// In the container, last: find COMMAND on the container's PATH (127
    /// when it is nowhere, 126 when it cannot be executed), send `ready`,
    /// and exec it through the stub.  A failure is reported on the
    /// handshake, by this process or by the stub.
    [[noreturn]] void exec(const std::vector<std::string>& argv, nsrun::Handshake& handshake) const;

    /// OCI create, last in the init (COMMAND found at `path`, `ready` sent):
    /// exec the stub, which waits on the exec fifo `fifo` (an O_PATH
    /// descriptor) for `nsrun start`, answers "0" and execs `path`.  So the
    /// process waiting between create and start is the sealed stub, not
    /// nsrun.  Failures go to stderr, the container's log.
    [[noreturn]] void exec_after_start(const std::vector<std::string>& argv, const std::string& path, int fifo) const;

private:
    explicit ExecStep(nsrun::UniqueFd memfd) noexcept : memfd_(std::move(memfd)) {}
    nsrun::UniqueFd memfd_;
};
