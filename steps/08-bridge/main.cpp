// step08-bridge: the command line.  Each step adds its primitive's options here.
#include "container.hpp"

#include <nsrun/cli.hpp>

#include <CLI/App.hpp>

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS, PID and mount namespaces on its own root filesystem\n"
                 "(pivot_root), with its own /proc, /sys (read-only), /dev and /tmp,\n"
                 "limited in memory, CPU and processes by a cgroup (in a cgroup namespace),\n"
                 "optionally in a user namespace (--userns); rootless when run by a non-root user;\n"
                 "in its own network namespace, on the host's bridge with an address of its own.",
                 "step08-bridge"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    add_rootfs_options(app, options.rootfs);
    add_cgroup_options(app, options.cgroups);
    add_userns_options(app, options.userns);
    add_netns_options(app, options.netns);
    add_bridge_options(app, options.bridge);
    app.add_option("--state-dir", options.state_dir, "where the runtime keeps leases and per-container files")
        ->type_name("DIR")
        ->capture_default_str();
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
