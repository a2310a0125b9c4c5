// step03-mount: the command line.  Each step adds its primitive's options here.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS, PID and mount namespaces: its own hostname, COMMAND is PID 1,\n"
                 "and a private mount table with a fresh /proc (ps sees only the container).",
                 "step03-mount"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
