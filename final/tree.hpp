// Removing a directory tree safely (a container's overlay directories, a
// layer of the image store).
#pragma once

#include <string>

/// rm -rf that never follows a symlink nor crosses into another filesystem
/// (a mount point is left in place); quiet, best effort (narrated).  Returns
/// whether `path` is gone.
bool remove_tree(const std::string& path) noexcept;
