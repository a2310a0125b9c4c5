// nsrun exec [OPTIONS] CONTAINER COMMAND [ARGS...]
#include "cli.hpp"

#include "engine.hpp"
#include "state.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <fmt/format.h>

int cli_exec(int argc, char** argv) {
    CLI::App app{"Run a command in a running container: in all its namespaces and its cgroup", "nsrun exec"};
    CommonFlags common;
    bool interactive = false;
    bool tty = false;
    std::vector<std::string> env;
    std::string workdir;
    std::string user;
    add_common_options(app, common);
    app.add_flag("-i,--interactive", interactive, "keep stdin open");
    app.add_flag("-t,--tty", tty, "allocate a terminal (pty)");
    app.add_option("-e,--env", env, "set an environment variable KEY=value")->allow_extra_args(false);
    app.add_option("-w,--workdir", workdir, "working directory inside the container")->type_name("DIR");
    app.add_option("-u,--user", user, "run as UID[:GID]")->type_name("UID[:GID]");
    app.prefix_command();
    app.footer("Usage: nsrun exec [OPTIONS] CONTAINER COMMAND [ARGS...]");
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        std::vector<std::string> rest = app.remaining();
        if (!rest.empty() && rest.front() == "--") {
            rest.erase(rest.begin());
        }
        if (rest.size() < 2) {
            throw nsrun::Error{"give CONTAINER and COMMAND", "e.g. nsrun exec web sh"};
        }
        const Store store(common.state_dir);
        const Record record = find_container(store, rest.front());
        if (record.state() != "running" || !nsrun::is_alive(record.init)) {
            throw nsrun::Error{fmt::format("container {} is not running ({})", rest.front(), record.state()),
                               fmt::format("start a new one with nsrun run; see nsrun ps -a")};
        }
        RunFlags flags; // reuse run's compilation of -e, -w, -u
        flags.command.assign(rest.begin() + 1, rest.end());
        flags.env = env;
        flags.workdir = workdir;
        flags.user = user;
        flags.tty = tty;
        Process process = record.spec.process;
        process.args = flags.command;
        process.terminal = tty;
        const ContainerSpec compiled = compile_exec(flags, record.spec);
        process.env = compiled.process.env;
        process.cwd = compiled.process.cwd;
        process.user = compiled.process.user;
        return exec_in_container(record, process, interactive);
    });
}
