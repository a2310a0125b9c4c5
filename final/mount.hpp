/// @file mount.hpp
/// The mount namespace: the container's own mount table.
#pragma once

#include <string>

/// In the child, inside the new mount namespace: make every mount private,
/// so nothing mounted inside propagates back to the host (and vice versa).
void make_mounts_private();

/// In the child: mount a fresh procfs on ROOT/proc, showing only the
/// processes of the container's PID namespace.  Before pivot_root, ROOT is
/// the rootfs: in a user namespace the kernel mounts a procfs only while
/// another one is fully visible — the host's, until the old root goes.
void mount_proc(const std::string& root = "");
