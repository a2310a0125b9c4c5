/// @file bundle_mounts.hpp
/// An OCI bundle's mounts[]: what the container gets mounted is exactly what
/// config.json lists (proc, sysfs, a tmpfs /dev, devpts, shm, mqueue, the
/// cgroup view, binds with their options), in its order — not the fixed,
/// docker-like set `nsrun run` makes (rootfs.hpp's mount_system_dirs).
#pragma once

#include "cgroups.hpp"
#include "spec.hpp"

#include <nsrun/fd.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

/// One config.json mount's options as mount(2) takes them: MS_* flags to
/// set, the propagation to give (MS_SHARED, MS_SLAVE, MS_UNBINDABLE,
/// MS_PRIVATE, each maybe | MS_REC; 0: none asked) and the filesystem's
/// data ("mode=755,size=65536k", "newinstance,gid=5").
struct MountOptions {
    unsigned long flags = 0;
    unsigned long propagation = 0;
    std::string data;
    bool recursive_bind = false; ///< rbind
};
/// Pure: `options` (flags from oci_config.cpp's list, KEY=VALUE data) compiled.
MountOptions mount_options(const std::vector<std::string>& options);

/// In the child, mount namespace private, before pivot_root: every entry of
/// spec.mounts at its destination inside ROOT (the rootfs, bound onto itself;
/// "." in a user namespace), in order, each destination resolved inside the
/// root (inroot.hpp) and made if missing.  `sources` are
/// open_volume_sources(spec)'s detached copies of the bind sources.  A
/// `cgroup`/`cgroup2` entry is the container's own cgroup
/// (Cgroup::mount_view_at; an empty read-only tmpfs when it has none).  When /dev is
/// a tmpfs of the config's, the standard nodes and links are made in it
/// (runc's default devices); then linux.devices' nodes (devices.hpp).
/// `cgroup_view` is called before each `cgroup`/`cgroup2` entry: the
/// caller waits there until the parent has made its cgroup and moved the
/// process into it, enters its cgroup namespace, and returns the cgroup
/// (null: the container has none).
void mount_bundle(const ContainerSpec& spec, const std::string& root, bool in_user_namespace,
                  const std::vector<nsrun::UniqueFd>& sources, const std::function<const Cgroup*()>& cgroup_view);

/// In the child, after pivot_root, before the read-only paths: linux.sysctl
/// written under /proc/sys, and linux.rootfsPropagation given to "/".
void apply_bundle_settings(const ContainerSpec& spec);
