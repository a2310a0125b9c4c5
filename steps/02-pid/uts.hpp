// The UTS namespace: the container's own hostname.
#pragma once

#include <string>

struct UtsOptions {
    std::string hostname = "container";
};

/// The check of --hostname NAME (main.cpp declares the option): empty if
/// the kernel will take NAME, else why not.
std::string check_hostname(const std::string& name);

/// In the child, inside the new UTS namespace: sethostname(2).  The host's
/// hostname is untouched because the name lives in the namespace.
void set_hostname(const UtsOptions& options);
