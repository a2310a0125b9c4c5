// step01-uts: the command line.  Each step adds its primitive's options here.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in a new UTS namespace: its own hostname; the host's is untouched.",
                 "step01-uts"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
