// The mount namespace (man 7 mount_namespaces).  clone(CLONE_NEWNS) gives the
// child a copy of the host's mount table.  The copy is not yet isolated: on
// systemd machines "/" is a *shared* mount (man 7 mount_namespaces, "shared
// subtrees"), so a mount made under it inside would propagate to the host.
// Making the whole tree private (MS_REC|MS_PRIVATE) cuts that link.
//
// /proc shows the processes of the PID namespace of whoever *mounted* it, so
// the container mounts its own procfs; `ps` then lists only its processes.
#include "mount.hpp"

#include <nsrun/sys.hpp>

#include <sys/mount.h>

void make_mounts_private() { nsrun::sys::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE); }

void mount_proc(const std::string& root) {
    nsrun::sys::mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}
