// nsrun state ID: the OCI state of a container, as JSON (runc state).
#include "cli.hpp"

#include "oci.hpp"

#include <nsrun/explain.hpp>

#include <cstdio>

#include <nlohmann/json.hpp>

int cli_state(int argc, char** argv) {
    CLI::App app{"Print a container's state as the OCI runtime spec defines it: ociVersion, id,\n"
                 "status (creating, created, running, paused, stopped), pid (while not stopped),\n"
                 "bundle, annotations.",
                 "nsrun state"};
    CommonFlags common;
    std::string id;
    add_common_options(app, common);
    app.add_option("ID", id, "the container's id")->required();
    return run_subcommand(app, argc, argv, [&] {
        nsrun::explain::enable(common.explain);
        const Record record = load_container(Store(common.state_dir), id);
        std::puts(oci_state(record).dump(2).c_str());
        return 0;
    });
}
