// nsrun delete [--force] ID: the end of an OCI container (runc delete).
#include "cli.hpp"

#include "oci.hpp"

int cli_delete(int argc, char** argv) {
    CLI::App app{"Delete a container: every host resource its record names (its cgroups) and\n"
                 "the record.  A created or stopped container is deleted; a running or paused\n"
                 "one only with --force, which kills its processes first.  With --force an\n"
                 "id that does not exist is not an error (containerd's shim relies on it).",
                 "nsrun delete"};
    OneContainerCommand command(app);
    bool force = false;
    app.add_flag("-f,--force", force, "kill the container's processes first; a missing container is fine");
    return command.run(argc, argv, [&](const Store& store, const std::string& id) {
        if (force && !container_exists(store, id)) {
            return 0;
        }
        delete_container(store, id, force);
        return 0;
    });
}
