// step04-rootfs: the command line, the one file of the step that includes
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

/// --rootfs DIR.
void add_rootfs_options(CLI::App& app, RootfsOptions& options) {
    app.add_option("--rootfs", options.dir, "directory to use as the container's / (default: the lab rootfs)")
        ->type_name("DIR")
        ->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS, PID and mount namespaces on its own root filesystem\n"
                 "(pivot_root), with its own /proc, /sys (read-only), /dev and /tmp.",
                 "step04-rootfs"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    add_rootfs_options(app, options.rootfs);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
