// step02-pid: the command line.  Each step adds its primitive's options here.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS and PID namespaces: its own hostname, and COMMAND is PID 1;\n"
                 "signals sent to the runtime are forwarded to it.",
                 "step02-pid"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
