// nsrun exec [OPTIONS] CONTAINER COMMAND [ARGS...]          (docker's form)
// nsrun exec --process FILE.json [--detach] [--pid-file F] ID  (runc's form)
#include "cli.hpp"

#include "engine.hpp"
#include "oci.hpp"
#include "state.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

/// runc's --process FILE: an OCI process object.  What it gives replaces the
/// container's own settings (args, env, cwd, user, terminal); the rest
/// (capabilities, no_new_privs, the seccomp filter) stays the container's.
void apply_process_file(const std::string& path, Process& process) {
    std::ifstream in(path);
    if (!in) {
        throw nsrun::Error{fmt::format("--process {}: cannot open", path)};
    }
    try {
        const nlohmann::json j = nlohmann::json::parse(in);
        process.args = j.at("args").get<std::vector<std::string>>();
        process.env = j.value("env", process.env);
        process.cwd = j.value("cwd", process.cwd);
        process.terminal = j.value("terminal", false);
        if (j.contains("user")) {
            process.user.uid = j.at("user").value("uid", 0U);
            process.user.gid = j.at("user").value("gid", 0U);
        }
        process.no_new_privileges = j.value("noNewPrivileges", process.no_new_privileges);
    } catch (const nlohmann::json::exception& e) {
        throw nsrun::Error{fmt::format("--process {}: {}", path, e.what()),
                           "give an OCI process object: {\"args\": [...], \"env\": [...], \"cwd\": \"/\"}"};
    }
    if (process.args.empty()) {
        throw nsrun::Error{fmt::format("--process {}: args is empty", path)};
    }
}

} // namespace

int cli_exec(int argc, char** argv) {
    CLI::App app{"Run a command in a running container: in all its namespaces and its cgroup", "nsrun exec"};
    CommonFlags common;
    bool interactive = false;
    bool tty = false;
    bool detach = false;
    std::vector<std::string> env;
    std::string workdir;
    std::string user;
    std::string process_file;
    ExecDetach detached;
    add_common_options(app, common);
    app.add_flag("-i,--interactive", interactive, "keep stdin open");
    app.add_flag("-t,--tty", tty, "allocate a terminal (pty)");
    app.add_option("-e,--env", env, "set an environment variable KEY=value")->allow_extra_args(false);
    app.add_option("-w,--workdir,--cwd", workdir, "working directory inside the container")->type_name("DIR");
    app.add_option("-u,--user", user, "run as UID[:GID]")->type_name("UID[:GID]");
    app.add_option("-p,--process", process_file, "OCI: the process to run, as an OCI process JSON file")
        ->type_name("FILE");
    app.add_flag("-d,--detach", detach, "OCI: return once it exec'd; the caller adopts it (a child subreaper)");
    app.add_option("--pid-file", detached.pid_file, "OCI: write the process's host pid to FILE")->type_name("FILE");
    app.add_option("--console-socket", detached.console_socket,
                   "OCI: with a terminal and --detach, send the pty master to this unix socket")
        ->type_name("SOCKET");
    app.prefix_command();
    app.footer("Usage: nsrun exec [OPTIONS] CONTAINER COMMAND [ARGS...]\n"
               "       nsrun exec --process FILE.json [--detach] [--pid-file FILE] [--console-socket S] ID");
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        std::vector<std::string> rest = app.remaining();
        if (!rest.empty() && rest.front() == "--") {
            rest.erase(rest.begin());
        }
        if (rest.empty() || (rest.size() < 2 && process_file.empty())) {
            throw nsrun::Error{"give CONTAINER and COMMAND (or --process FILE and the id)", "e.g. nsrun exec web sh"};
        }
        const Store store(common.state_dir);
        const Record record = find_container(store, rest.front());
        const std::string state = record.oci ? oci_status(record) : record.state();
        if (state != "running" || !nsrun::is_alive(record.init)) {
            throw nsrun::Error{fmt::format("container {} is not running ({})", rest.front(), state),
                               fmt::format("start a new one with nsrun run; see nsrun ps -a")};
        }
        RunFlags flags; // reuse run's compilation of -e, -w, -u
        flags.command.assign(rest.begin() + 1, rest.end());
        flags.env = env;
        flags.workdir = workdir;
        flags.user = user;
        flags.tty = tty;
        Process process = record.spec.process;
        if (!process_file.empty()) {
            apply_process_file(process_file, process);
        } else {
            process.args = flags.command;
            process.terminal = tty;
            const ContainerSpec compiled = compile_exec(flags, record.spec);
            process.env = compiled.process.env;
            process.cwd = compiled.process.cwd;
            process.user = compiled.process.user;
        }
        if (!detach) {
            return exec_in_container(record, process, interactive);
        }
        if (process.terminal && detached.console_socket.empty()) {
            throw nsrun::Error{"exec --detach with a terminal needs --console-socket", "give --console-socket SOCKET"};
        }
        if (!detached.pid_file.empty()) {
            detached.pid_file = std::filesystem::absolute(detached.pid_file).string();
        }
        return exec_in_container(record, process, interactive, &detached);
    });
}
