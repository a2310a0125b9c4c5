/// @file names.hpp
/// Container names.  An id is random hex (common's container_id.hpp); a name is chosen by the
/// user and checked before anything is built from it: no path, veth or cgroup
/// name is ever made of unchecked input.
#pragma once

#include <string>

/// Why `name` is not a valid container name (empty when it is):
/// [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters.
std::string name_problem(const std::string& name);

/// Throws nsrun::Error (125) unless `name` is valid.
void check_name(const std::string& name);

/// Whether `text` could be (a prefix of) a container id: hex digits only.
/// Ids themselves come from common's container_id.hpp.
bool is_hex(const std::string& text);
