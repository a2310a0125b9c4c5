// step04-rootfs: the command line.  Each step adds its primitive's options here.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

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
