// The cgroup tree both drivers (cgroup_v1.cpp, cgroup_v2.cpp) work in the
// same way: the runtime's directory nsrun/ under a hierarchy's root, the
// container's directory nsrun/<id> under it, interface files written there,
// and rmdir once the container is gone.
#pragma once

#include "cgroups.hpp"

#include <functional>
#include <string>
#include <sys/mount.h>

namespace cgroup_tree {

/// The name of the runtime's own subtree under each hierarchy's root.
inline constexpr const char* parent_name = "nsrun";
/// The controllers the limits need, in the order v2 enables them.
inline constexpr const char* needed_controllers[] = {"memory", "cpu", "pids"};
/// The flags of every cgroupfs view inside: the container reads its limits
/// there but cannot raise them.
inline constexpr unsigned long view_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

/// Write `value` into the interface file DIR/FILE.
void write(const std::string& dir, const char* file, const std::string& value);

/// Whether a space-separated list (cgroup.controllers) holds `word`.
bool lists(const std::string& list, const std::string& word);

/// mkdir `hierarchy`/nsrun (shared: another container may have made it) and
/// then `hierarchy/nsrun/<id>` (ours alone: it must not exist), and return
/// the latter.  On the way, empty cgroups of dead containers under nsrun/
/// are removed.  `prepare_parent` runs on nsrun before our directory is made.
std::string make_container_dir(const std::string& hierarchy, const std::string& id, const MkdirHook& hook,
                               const std::function<void(const std::string&)>& prepare_parent = {});

/// rmdir the container's own cgroup, retrying while the kernel still frees
/// it.  Never throws; a failure is a warning.
void remove_container_dir(const std::string& dir) noexcept;

/// rmdir the shared nsrun/ if no other container still uses it.
void remove_parent_dir(const std::string& parent) noexcept;

} // namespace cgroup_tree
