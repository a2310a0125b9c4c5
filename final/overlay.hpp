// The root filesystem of a container made from an image: overlayfs.
//
//   merged  (the container's /)        STATE_DIR/containers/<id>/rootfs
//     upper (its changes)               STATE_DIR/containers/<id>/upper  ← writes go here
//     lower N … lower 1 (the image)     IMAGE_ROOT/layers/<diff_id>/fs   read-only, shared
//
// The overlay is made with the new mount API (fsopen, fsconfig, fsmount)
// as a *detached* mount — one that is in no mount namespace — by the
// parent, with the host's privileges (overlayfs reads the layers' trusted.*
// whiteout xattrs as the mounter).  The child, after making its mounts
// private, attaches it with move_mount(2): the overlay exists in the
// container's mount namespace only and goes away with it.  A rootless run
// has no host privilege: the child makes the overlay itself, inside its
// user namespace, with `userxattr` (Linux 5.11+).
#pragma once

#include "spec.hpp"

#include <nsrun/fd.hpp>

#include <string>
#include <vector>
#include <sys/types.h>

/// The overlay's directories for a container whose directory is `container_dir`.
struct OverlayPlan {
    std::vector<std::string> lowers; ///< the layers' directories, top first
    std::string upper; ///< "" (and no work): a read-only overlay of the lowers
    std::string work;
    std::string merged;
    bool userxattr = false; ///< rootless: trusted.* is out of reach
};

/// Pure: the plan for `spec` (which has image layers).
OverlayPlan plan_overlay(const ContainerSpec& spec, const std::string& container_dir);

/// In the parent, before clone: make upper, work and merged, owned by the
/// container's root as the host sees it (`owner`, for --userns).
void make_overlay_dirs(const OverlayPlan& plan, uid_t owner_uid, gid_t owner_gid);

struct UserNamespace;

/// The host uid and gid of the container's root (0 without a user namespace).
uid_t outside_root_uid(const UserNamespace& userns);
gid_t outside_root_gid(const UserNamespace& userns);

/// fsopen("overlay") + fsconfig(lowerdir, upperdir, workdir[, userxattr]) +
/// fsmount: the overlay as a detached mount (nodev: a device node an image
/// carries is never usable).  Narrated; throws nsrun::Error (125) with a hint.
nsrun::UniqueFd make_overlay(const OverlayPlan& plan);

/// In the child, with its mounts private: attach the detached overlay on
/// `target` (move_mount; plan.merged, or "." in a user namespace, whose
/// child starts there), so that entering the rootfs pivots into it.
void attach_overlay(const nsrun::UniqueFd& overlay, const std::string& target);

/// In the parent, before anything is made: every layer of the spec is in
/// the store.  Throws (125) naming the missing one.
void check_image_layers(const ContainerSpec& spec);

/// In the parent, once the container's record (which names its layers) is
/// saved: wait for any `nsrun image rm` in progress (a shared flock of the
/// store's lock) and check the layers again.  An `image rm` that starts
/// later finds the record and keeps the layers; one that finished earlier
/// took them, and this throws (125) instead of mounting a half-gone image.
void confirm_image_layers(const ContainerSpec& spec);
