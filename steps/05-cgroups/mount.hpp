// The mount namespace: the container's own mount table.
#pragma once

/// In the child, inside the new mount namespace: make every mount private,
/// so nothing mounted inside propagates back to the host (and vice versa).
void make_mounts_private();

/// In the child: mount a fresh procfs on /proc, showing only the
/// processes of the container's PID namespace.
void mount_proc();
