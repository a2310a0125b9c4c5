/// @file inroot.hpp
/// Paths from the rootfs are hostile: an image (or another container sharing
/// a volume) may make any component of a mount destination a symlink — to a
/// host path, or `../../..` — and swap it between a check and the mount
/// (CVE-2021-30465's symlink-exchange race).  Every destination nsrun mounts
/// onto is therefore resolved *inside* the container's root by the kernel
/// (openat2 RESOLVE_IN_ROOT: "/" and ".." stop at the root, absolute symlinks
/// start there; RESOLVE_NO_MAGICLINKS: no /proc/self/fd/N jumps), and the
/// mount is made onto the descriptor (/proc/self/fd/N), never onto a path
/// that the kernel would walk again.
#pragma once

#include <nsrun/fd.hpp>

#include <string>

/// An O_PATH descriptor of `path` resolved inside the directory `root` as if
/// it were "/" (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).  On a kernel
/// older than 5.6 (no openat2, ENOSYS) the path is walked one component at
/// a time with O_NOFOLLOW and any symlink is refused (ELOOP).  Throws
/// nsrun::SysError naming `path`.
nsrun::UniqueFd open_in_root(int root, const std::string& path);

/// mkdir -p `path` inside `root` (each component made with mkdirat in its
/// resolved parent), or an empty file as the last component when
/// `directory` is false; a symlink on the way is followed inside the root
/// by reading its text.  The descriptor returned is that of the path so
/// walked, opened with RESOLVE_NO_SYMLINKS: if a name on it was swapped for a
/// symlink meanwhile (a racer sharing a volume), it fails with ELOOP instead
/// of landing somewhere else.
nsrun::UniqueFd make_in_root(int root, const std::string& path, bool directory);

/// "/proc/self/fd/N": the path a mount(2) onto the descriptor takes.
std::string fd_path(const nsrun::UniqueFd& fd);

/// Whether the mount destination `path` is on or under /proc or /sys
/// (lexically): a volume there would hide or replace the kernel's view.
bool is_kernel_filesystem_path(const std::string& path);

/// The filesystem under the resolved descriptor `fd` is procfs, sysfs or a
/// cgroup filesystem: the destination reached it through a symlink.
bool is_on_kernel_filesystem(const nsrun::UniqueFd& fd);
