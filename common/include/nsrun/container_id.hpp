/// @file container_id.hpp
/// @brief The container id: one name for everything a container owns.
///
/// Each container gets a random id when it is created.  Everything the
/// runtime makes for it on the host is named after it, so that one id finds
/// all of it: its cgroups (`nsrun/ID`), its veth (`nsr-` and the id's first
/// 8 digits), its state directory (`/run/nsrun/containers/ID`).
#pragma once

#include <string>

namespace nsrun {

/// A fresh container id: 12 hex digits from getrandom(2), as docker shows them.
[[nodiscard]] std::string make_container_id();

/// Whether `text` has the form make_container_id() gives (12 lowercase hex
/// digits): safe to build a path, a link or a cgroup name from.
[[nodiscard]] bool is_container_id(const std::string& text);

} // namespace nsrun
