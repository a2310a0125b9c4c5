// step03-mount: the command line, the one file of the step that includes
// CLI11 (parsing it costs seconds per file).  Each step adds its primitive's
// options here; the primitive's own file checks their values.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

namespace {

/// --hostname NAME.
void add_uts_options(CLI::App& app, UtsOptions& options) {
    app.add_option("--hostname", options.hostname, "the container's hostname (1-64 characters)")
        ->type_name("NAME")
        ->capture_default_str()
        ->check(CLI::Validator(check_hostname, ""));
}

} // namespace

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
