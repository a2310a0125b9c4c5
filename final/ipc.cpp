#include "ipc.hpp"

#include <nsrun/sys.hpp>

#include <sys/mount.h>

void mount_mqueue(const ContainerSpec& spec) {
    const Namespace* ipc = spec.linux.find("ipc");
    if (!ipc || !ipc->path.empty()) {
        return; // the host's, or another container's, whose /dev/mqueue is theirs
    }
    nsrun::sys::mkdir("/dev/mqueue", 0755);
    nsrun::sys::mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}
