// step05-cgroups: the command line, the one file of the step that includes
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

/// -m/--memory, --cpus, --cpu-weight, --pids-limit.
void add_cgroup_options(CLI::App& app, CgroupOptions& options) {
    app.add_option("-m,--memory", options.memory, "memory limit: bytes, or with a k, m or g suffix (e.g. 64m)")
        ->type_name("SIZE")
        ->transform(CLI::Validator(size_to_bytes, ""));
    app.add_option("--cpus", options.cpus, "CPU limit: how many CPUs' worth of time, e.g. 0.5")
        ->type_name("N")
        ->check(CLI::Validator(check_cpus, ""));
    app.add_option("--cpu-weight", options.cpu_weight,
                   "CPU share when CPUs are contended: 1-10000 (default 100)")
        ->type_name("N")
        ->check(CLI::Validator(check_cpu_weight, ""));
    app.add_option("--pids-limit", options.pids_limit, "at most N processes (and threads) at once")
        ->type_name("N")
        ->check(CLI::Validator(check_pids_limit, ""));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS, PID and mount namespaces on its own root filesystem\n"
                 "(pivot_root), with its own /proc, /sys (read-only), /dev and /tmp,\n"
                 "limited in memory, CPU and processes by a cgroup (in a cgroup namespace).",
                 "step05-cgroups"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    add_rootfs_options(app, options.rootfs);
    add_cgroup_options(app, options.cgroups);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
