/// @file userns.hpp
/// The user namespace: root inside, an unprivileged user outside — and
/// rootless containers, made by a user who is not root at all.
#pragma once

#include "spec.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

/// "C:H:N" → `range`; returns why the text is not a range (empty if it is).
std::string parse_id_range(const std::string& text, IdRange& range);

/// The whole map must be acceptable to the kernel: at most 340 lines, no two
/// ranges overlap inside or outside, container root mapped.  Throws
/// nsrun::Error naming `flag`.
void check_id_map(const std::string& flag, const std::vector<IdRange>& ranges);

/// Plan (from the command line, before anything is made): as root, a user
/// namespace only when `asked` (--userns/--uidmap/--gidmap; default map
/// 0:100000:65536, one map given → the other is the same); as anyone else,
/// always one, mapping container root to the caller (rootless).  Fills the
/// spec's "user" namespace, mappings and nsrun.rootless.
void plan_user_namespace(bool asked, const std::vector<IdRange>& uids, const std::vector<IdRange>& gids,
                         ContainerSpec& spec);

/// What the runtime does about users, decided in the parent before clone.
struct UserNamespace {
    bool enabled = false;  ///< clone with CLONE_NEWUSER
    bool rootless = false; ///< run by a user who is not root: map 0 to them
    std::vector<IdRange> uids;
    std::vector<IdRange> gids;

    /// Cgroups, mknod and a fresh sysfs need privileges on the host.
    [[nodiscard]] bool may_use_cgroups() const { return !rootless; }
    /// The clone flag to add: CLONE_NEWUSER or 0.
    [[nodiscard]] int clone_flag() const;
};

/// The spec's user namespace, as the engine uses it.
UserNamespace user_namespace_of(const ContainerSpec& spec);

/// In the parent, before clone: in rootless mode say, once per flag, which
/// cgroup limits cannot be honoured (no cgroup is delegated to us).
void warn_unhonoured_limits(const UserNamespace& userns, const Resources& limits);

/// In the parent, before clone: the mapped container root must be able to
/// read and enter the rootfs.  Throws a clear error otherwise.
void check_rootfs_access(const UserNamespace& userns, const Root& rootfs);

/// In the parent, after clone and before releasing the child: write
/// /proc/PID/uid_map, /proc/PID/setgroups and /proc/PID/gid_map.
void write_id_maps(const UserNamespace& userns, pid_t child);

/// In the child, after the maps are written: become uid 0 / gid 0 of the
/// user namespace (dropping the host's supplementary groups when allowed).
void become_root(const UserNamespace& userns);
