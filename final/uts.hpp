/// @file uts.hpp
/// The UTS namespace: the container's own hostname.
#pragma once

#include "spec.hpp"

#include <string>

/// Why `name` cannot be a hostname (empty when it can): 1-64 characters.
std::string hostname_problem(const std::string& name);

/// In the child, inside the new UTS namespace: sethostname(2).  The host's
/// hostname is untouched because the name lives in the namespace.
void set_hostname(const ContainerSpec& spec);
