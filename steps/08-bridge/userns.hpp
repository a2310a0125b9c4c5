// The user namespace: root inside, an unprivileged user outside — and
// rootless containers, made by a user who is not root at all.
#pragma once

#include "rootfs.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

/// One line of a uid_map/gid_map: ids inside..inside+count-1 are ids
/// outside..outside+count-1 on the host.
struct IdRange {
    std::uint32_t inside = 0;
    std::uint32_t outside = 0;
    std::uint32_t count = 0;
};

struct UsernsOptions {
    bool userns = false;             ///< --userns
    std::vector<IdRange> uid_ranges; ///< --uidmap C:H:N, repeatable
    std::vector<IdRange> gid_ranges; ///< --gidmap C:H:N, repeatable
};

/// The values of --uidmap or --gidmap (main.cpp declares the options),
/// "C:H:N" each, as RANGES.  Returns empty if the map is one the kernel
/// accepts (format, 32-bit ranges, at most 340, no overlaps, container root
/// mapped), else why not.
std::string parse_id_map(const std::vector<std::string>& texts, std::vector<IdRange>& ranges);

/// What the runtime does about users, decided in the parent before clone.
struct UserNamespace {
    bool enabled = false;  ///< clone with CLONE_NEWUSER
    bool rootless = false; ///< run by a user who is not root: map 0 to them
    std::vector<IdRange> uids;
    std::vector<IdRange> gids;

    /// The clone flag to add: CLONE_NEWUSER or 0.
    [[nodiscard]] int clone_flag() const;
};

/// Decide from the options and geteuid(): as root, a user namespace only
/// with --userns/--uidmap/--gidmap (default map 0:100000:65536); as anyone
/// else, always one, mapping container root to the caller (rootless).
UserNamespace plan_user_namespace(const UsernsOptions& options);

/// In the parent, before clone: the mapped container root must be able to
/// read and enter the rootfs.  Throws a clear error otherwise.
void check_rootfs_access(const UserNamespace& userns, const RootfsOptions& rootfs);

/// In the parent, after clone and before releasing the child: write
/// /proc/PID/uid_map, /proc/PID/setgroups and /proc/PID/gid_map.
void write_id_maps(const UserNamespace& userns, pid_t child);

/// In the child, after the maps are written: become uid 0 / gid 0 of the
/// user namespace (dropping the host's supplementary groups when allowed).
void become_root(const UserNamespace& userns);
