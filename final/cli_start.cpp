// nsrun start ID: the OCI runtime interface's second half (runc start).
#include "cli.hpp"

#include "oci.hpp"

#include <nsrun/explain.hpp>

int cli_start(int argc, char** argv) {
    CLI::App app{"Start a created container: its init, waiting on the exec fifo since create,\n"
                 "execs process.args.  Only a created container can be started, once.",
                 "nsrun start"};
    CommonFlags common;
    std::string id;
    add_common_options(app, common);
    app.add_option("ID", id, "the container's id")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        start_container(Store(common.state_dir), id);
        return 0;
    });
}
