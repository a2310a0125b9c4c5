/// @file volumes.hpp
/// Volumes (-v HOST:CONTAINER[:ro|rw]) and tmpfs mounts (--tmpfs PATH): the
/// spec's mounts[], made inside the container after it entered its rootfs.
#pragma once

#include "spec.hpp"

#include <nsrun/fd.hpp>

#include <string>
#include <vector>

/// Compile one -v value into a bind mount.  HOST must be an absolute path
/// that exists, CONTAINER an absolute path; throws nsrun::Error (125).
Mount parse_volume(const std::string& text);
/// Compile one --tmpfs PATH into a tmpfs mount.
Mount parse_tmpfs(const std::string& text);

/// In the parent, before clone: every bind source still exists (a clear
/// error, 125, before anything is made).
void check_volumes(const ContainerSpec& spec);

/// In the child, before it leaves the host's tree: an O_PATH descriptor for
/// every bind source, so that the mount after pivot_root needs no host path.
std::vector<nsrun::UniqueFd> open_volume_sources(const ContainerSpec& spec);

/// In the child, after pivot_root and the system mounts: each mount, in
/// order, at its destination *inside* the new root (symlinks and ".." resolve
/// within it), the destination made if missing; read-only ones remounted so.
void mount_volumes(const ContainerSpec& spec, const std::vector<nsrun::UniqueFd>& sources);
