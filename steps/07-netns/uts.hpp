// The UTS namespace: the container's own hostname.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

struct UtsOptions {
    std::string hostname = "container";
};

/// --hostname NAME.
void add_uts_options(CLI::App& app, UtsOptions& options);

/// In the child, inside the new UTS namespace: sethostname(2).  The host's
/// hostname is untouched because the name lives in the namespace.
void set_hostname(const UtsOptions& options);
