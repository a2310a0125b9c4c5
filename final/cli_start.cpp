// nsrun start ID: the OCI runtime interface's second half (runc start).
#include "cli.hpp"

#include "oci.hpp"

int cli_start(int argc, char** argv) {
    CLI::App app{"Start a created container: its init, waiting on the exec fifo since create,\n"
                 "execs process.args.  Only a created container can be started, once.",
                 "nsrun start"};
    return OneContainerCommand(app).run(argc, argv, [](const Store& store, const std::string& id) {
        start_container(store, id);
        return 0;
    });
}
