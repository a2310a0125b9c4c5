// nsrun state ID: the OCI state of a container, as JSON (runc state).
#include "cli.hpp"

#include "oci.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

int cli_state(int argc, char** argv) {
    CLI::App app{"Print a container's state as the OCI runtime spec defines it: ociVersion, id,\n"
                 "status (creating, created, running, paused, stopped), pid (while not stopped),\n"
                 "bundle, annotations.",
                 "nsrun state"};
    return OneContainerCommand(app).run(argc, argv, [](const Store& store, const std::string& id) {
        const Record record = load_container_lifecycle(store, id).record; // the state needs no more of the spec
        std::puts(oci_state(record).dump(2).c_str());
        return 0;
    });
}
