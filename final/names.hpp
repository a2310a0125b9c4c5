// Container ids and names.  An id is random hex; a name is chosen by the
// user and checked before anything is built from it: no path, veth or cgroup
// name is ever made of unchecked input.
#pragma once

#include <string>

/// A fresh container id: 12 hex digits from getrandom(2), as docker shows them.
std::string make_container_id();

/// Why `name` is not a valid container name (empty when it is):
/// [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters.
std::string name_problem(const std::string& name);

/// Throws nsrun::Error (125) unless `name` is valid.
void check_name(const std::string& name);

/// Whether `text` looks like an id (hex digits only).
bool is_hex(const std::string& text);
