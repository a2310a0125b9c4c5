/// @file ipc.hpp
/// The IPC namespace (man 7 ipc_namespaces): System V IPC objects (shared
/// memory, semaphores, message queues) and POSIX message queues are the
/// container's own.  --ipc private (default), host, or container:NAME.
#pragma once

#include "spec.hpp"

/// In the child, after /dev is mounted: a fresh mqueue filesystem on
/// /dev/mqueue, showing the queues of the container's IPC namespace (the
/// mqueue fs shows those of the namespace of whoever mounts it).
void mount_mqueue(const ContainerSpec& spec);
