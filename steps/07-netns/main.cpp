// step07-netns: the command line, the one file of the step that includes
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

/// --uidmap or --gidmap C:H:N, repeatable; the whole map is checked at once.
void add_map_option(CLI::App& app, const std::string& flag, std::vector<IdRange>& ranges, const std::string& what) {
    app.add_option_function<std::vector<std::string>>(
           flag,
           [&ranges, flag](const std::vector<std::string>& texts) {
               if (const std::string problem = parse_id_map(texts, ranges); !problem.empty()) {
                   throw CLI::ValidationError(flag, problem);
               }
           },
           "map " + what + " ids CONTAINER..+COUNT to HOST..+COUNT (repeatable; implies --userns)")
        ->type_name("C:H:N")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

/// --userns, --uidmap C:H:N, --gidmap C:H:N.
void add_userns_options(CLI::App& app, UsernsOptions& options) {
    app.add_flag("--userns", options.userns,
                 "run in a user namespace: root inside is an unprivileged host uid (default map 0:100000:65536)");
    add_map_option(app, "--uidmap", options.uid_ranges, "user");
    add_map_option(app, "--gidmap", options.gid_ranges, "group");
}

/// --network MODE.
void add_netns_options(CLI::App& app, NetnsOptions& options) {
    const std::map<std::string, NetworkMode> modes = {
        {"none", NetworkMode::none}, {"host", NetworkMode::host}, {"veth", NetworkMode::veth}};
    // Matched by name only (case-insensitive); --help lists the names, not the enum values.
    app.add_option_function<std::string>(
           "--network",
           [&options, modes](const std::string& name) {
               options.mode = modes.at(name);
               options.given = true;
           },
           "none: loopback only; host: share the host's network; veth: a veth pair to the host")
        ->type_name("none|host|veth")
        ->default_str("veth")
        ->transform(CLI::IsMember({"none", "host", "veth"}, CLI::ignore_case).description(""));
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Run COMMAND in new UTS, PID and mount namespaces on its own root filesystem\n"
                 "(pivot_root), with its own /proc, /sys (read-only), /dev and /tmp,\n"
                 "limited in memory, CPU and processes by a cgroup (in a cgroup namespace),\n"
                 "optionally in a user namespace (--userns); rootless when run by a non-root user;\n"
                 "in its own network namespace, connected to the host by a veth pair.",
                 "step07-netns"};
    Options options;
    nsrun::cli::add_command(app, options.command);
    add_uts_options(app, options.uts);
    add_rootfs_options(app, options.rootfs);
    add_cgroup_options(app, options.cgroups);
    add_userns_options(app, options.userns);
    add_netns_options(app, options.netns);
    return nsrun::cli::run(app, options.command, argc, argv,
                           [&] { return run_container(options); });
}
