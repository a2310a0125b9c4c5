/// @file cli.hpp
/// The command line: one function per subcommand (cli_*.cpp), each building
/// its own CLI11 app "nsrun SUBCOMMAND" and calling the engine.
#pragma once

#include "image_store.hpp"
#include "log_line.hpp"
#include "spec.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

/// The options given before the subcommand, as runc has them (podman and
/// containerd's shim pass them on every call).
struct GlobalFlags {
    std::string root;      ///< --root DIR: the state directory ("": the default)
    std::string log;       ///< --log FILE: errors (and --debug notes) are appended there too
    bool log_json = false; ///< --log-format json: one {"level","msg","time"} object per line
    bool debug = false;    ///< --debug: debug notes in the log
};
GlobalFlags& global_flags();
/// Parse the global options at the front of argv; returns how many
/// arguments they took.  Throws nsrun::Error on an unknown or refused one.
int parse_global_flags(int argc, char** argv);

/// Where containers' state lives by default: --root if given; else
/// /run/nsrun for root; for anyone else $XDG_RUNTIME_DIR/nsrun, or
/// /tmp/nsrun-UID (rootless containers cannot write to /run).
std::string default_state_dir();

/// Every flag of `nsrun run`, as given (compile_run turns them into a spec).
struct RunFlags {
    std::vector<std::string> command;
    bool explain = false;
    std::string hostname = "container";
    std::string rootfs = NSRUN_LAB_ROOTFS;
    std::optional<unsigned long long> memory;
    std::optional<double> cpus;
    std::optional<unsigned> cpu_weight;
    std::optional<unsigned> pids_limit;
    bool userns = false;
    std::vector<IdRange> uid_ranges;
    std::vector<IdRange> gid_ranges;
    std::string network = "bridge";
    bool network_given = false;
    std::string bridge = "nsrun0";
    std::string subnet = "10.203.0.0/16";
    std::string state_dir = default_state_dir();
    std::vector<std::string> publish;
    // docker's lifecycle flags
    std::string name;
    bool detach = false;
    bool remove = false;
    bool interactive = false;
    bool tty = false;
    std::vector<std::string> env;
    std::vector<std::string> env_files;
    std::string workdir;
    std::string user;
    std::vector<std::string> volumes;
    std::vector<std::string> tmpfs;
    bool read_only = false;
    bool init = false;
    std::string ipc = "private";
    unsigned stop_timeout = 10;
    // hardening
    std::vector<std::string> cap_add;
    std::vector<std::string> cap_drop;
    bool privileged = false;
    std::vector<std::string> security_opts;
    std::vector<std::string> devices; ///< --device HOST[:CONTAINER][:PERMS]
    std::vector<std::string> ulimits;  ///< --ulimit NAME=SOFT[:HARD]
    std::optional<int> oom_score_adj; ///< --oom-score-adj N
    // images
    std::string image;                      ///< --image REF
    std::string image_root = default_image_root();
    std::optional<std::string> entrypoint;  ///< --entrypoint ("" clears the image's)
    std::string image_id;                   ///< filled by resolve_image()
    std::vector<std::string> image_layers;  ///< the layers' directories, top first
    std::optional<ImageProcess> image_process; ///< the image's Entrypoint, Cmd, Env, WorkingDir, User (UID:GID)
};

/// --image REF: read the image from the store into `flags` (cli_image.cpp).
void resolve_image(RunFlags& flags);

/// Add every `run` option to `app`.
void add_run_options(CLI::App& app, RunFlags& flags);

/// Compile the flags into the spec (pure but for the caller's euid, which
/// decides rootless).  Throws nsrun::Error (125) on a bad combination.
ContainerSpec compile_run(const RunFlags& flags);

/// `exec`'s -e, -w, -u, -t on top of the container's process settings.
ContainerSpec compile_exec(const RunFlags& flags, const ContainerSpec& container);

/// The default environment of a container (docker's): PATH, HOSTNAME, HOME
/// and, with a terminal, TERM.
std::vector<std::string> default_env(const std::string& hostname, bool terminal);

int cli_run(int argc, char** argv);
int cli_ps(int argc, char** argv);
int cli_logs(int argc, char** argv);
int cli_exec(int argc, char** argv);
int cli_stop(int argc, char** argv);
int cli_kill(int argc, char** argv);
int cli_wait(int argc, char** argv);
int cli_inspect(int argc, char** argv);
int cli_rm(int argc, char** argv);
int cli_gc(int argc, char** argv);
int cli_image(int argc, char** argv);
int cli_export(int argc, char** argv);
// The OCI runtime interface (runc's command line).
int cli_create(int argc, char** argv);
int cli_start(int argc, char** argv);
int cli_state(int argc, char** argv);
int cli_delete(int argc, char** argv);
int cli_list(int argc, char** argv);
int cli_pause(int argc, char** argv);
int cli_resume(int argc, char** argv);
int cli_update(int argc, char** argv);
int cli_spec(int argc, char** argv);     // cli_spec.cpp
int cli_features(int argc, char** argv); // cli_spec.cpp

/// Parse `app` and run `body`, mapping failures to docker's statuses (a bad
/// flag or an nsrun::Error → message, hint and 125 or the error's status).
int run_subcommand(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

/// --state-dir DIR and --explain, which every subcommand has.
struct CommonFlags {
    std::string state_dir = default_state_dir();
    bool explain = false;
};
void add_common_options(CLI::App& app, CommonFlags& flags);

class Store;
struct Record;

/// The command line of an OCI command on one container, as runc has them:
/// `nsrun NAME [--state-dir DIR] [--explain] [the command's options] ID`.
/// Made on the app (the common options come first in --help); the command
/// adds its own options, then run() adds ID, parses and calls `body` with
/// the store and the id (--explain on), mapping failures as run_subcommand.
class OneContainerCommand {
public:
    explicit OneContainerCommand(CLI::App& app);
    int run(int argc, char** argv, const std::function<int(const Store&, const std::string&)>& body);

private:
    CLI::App& app_;
    CommonFlags common_;
    std::string id_;
};

/// NAME or ID → its record; a garbled record is an error (125) that says
/// how to reclaim it.
Record find_container(const Store& store, const std::string& name_or_id);
/// "web" or the short id, for messages.
std::string display_name(const Record& record);
/// "Up 3 minutes", "Exited (0) 5 seconds ago", "Dead", as docker ps shows it.
std::string status_text(const Record& record);
/// Wait until the record says the container ended (or its owner is gone),
/// at most `timeout_ms`; returns the last record read, nullopt once it was removed (--rm).
std::optional<Record> wait_until_ended(const Store& store, const std::string& id, int timeout_ms);

namespace nsrun {
class Error;
/// "nsrun: error: …" and the hint, for commands that go on after a failure.
void cli_print_error(const Error& error);
} // namespace nsrun
