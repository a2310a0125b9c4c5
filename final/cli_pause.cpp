// nsrun pause ID / nsrun resume ID: freeze and thaw a container (runc pause/resume).
#include "cli.hpp"

#include "oci.hpp"

namespace {

int pause_or_resume(int argc, char** argv, bool pause) {
    CLI::App app{pause ? "Freeze every process of a running container (cgroup v2 cgroup.freeze, v1 freezer)"
                       : "Thaw a paused container",
                 pause ? "nsrun pause" : "nsrun resume"};
    return OneContainerCommand(app).run(argc, argv, [&](const Store& store, const std::string& id) {
        set_paused(store, id, pause);
        return 0;
    });
}

} // namespace

int cli_pause(int argc, char** argv) { return pause_or_resume(argc, argv, true); }
int cli_resume(int argc, char** argv) { return pause_or_resume(argc, argv, false); }
