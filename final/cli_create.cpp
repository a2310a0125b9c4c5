// nsrun create [OPTIONS] ID: the OCI runtime interface's first half (runc create).
#include "cli.hpp"

#include "engine.hpp"
#include "oci_config.hpp"
#include "state.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>

#include <filesystem>

#include <fmt/format.h>

int cli_create(int argc, char** argv) {
    CLI::App app{"Create a container from an OCI bundle (config.json and its rootfs).\n"
                 "Everything is set up — namespaces, mounts, root, cgroup, id maps — and the\n"
                 "container's init waits on the exec fifo; `nsrun start ID` lets it exec\n"
                 "process.args.  nsrun exits once the pid file is written: the init is then\n"
                 "the child of whoever adopts orphans (the caller, as a child subreaper).",
                 "nsrun create"};
    CommonFlags common;
    CreateRequest request;
    std::string bundle = ".";
    std::string pid_file;
    bool no_pivot = false;
    bool no_new_keyring = false;
    add_common_options(app, common);
    app.add_option("-b,--bundle", bundle, "the bundle directory (holding config.json)")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("--pid-file", pid_file, "write the init's pid (as the host sees it) to FILE")->type_name("FILE");
    app.add_option("--console-socket", request.console_socket,
                   "with process.terminal: a unix socket to send the pty master to (SCM_RIGHTS)")
        ->type_name("SOCKET");
    app.add_option("--preserve-fds", request.preserve_fds, "pass fds 3 … 3+N-1 to the container's process")
        ->type_name("N");
    app.add_flag("--no-pivot", no_pivot, "refused with a clear error: nsrun always pivot_roots into the rootfs");
    app.add_flag("--no-new-keyring", no_new_keyring, "accepted: nsrun makes no session keyring");
    app.add_option("ID", request.id, "the container's id (letters, digits, _ . + -)")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        if (no_pivot) {
            throw nsrun::Error{"--no-pivot is not supported: nsrun always pivot_roots into the rootfs",
                               "drop --no-pivot (it exists for ramdisk roots, where pivot_root fails)"};
        }
        if (!is_store_id(request.id)) {
            throw nsrun::Error{fmt::format("invalid container id '{}'", request.id),
                               "use letters, digits, _ . + - (not starting with a dot)"};
        }
        request.bundle = std::filesystem::absolute(bundle).lexically_normal().string();
        if (request.bundle.size() > 1 && request.bundle.back() == '/') {
            request.bundle.pop_back();
        }
        if (!pid_file.empty()) {
            request.pid_file = std::filesystem::absolute(pid_file).string();
        }
        ContainerSpec spec = spec_from_bundle(request.bundle);
        spec.nsrun.state_dir = common.state_dir;
        create_container(std::move(spec), request);
        return 0;
    });
}
