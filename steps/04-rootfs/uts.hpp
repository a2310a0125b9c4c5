// The UTS namespace: the container's own hostname.
#pragma once

#include <string>

namespace CLI {
class App; // CLI11's parser: only the .cpp that declares the options includes CLI11
} // namespace CLI

struct UtsOptions {
    std::string hostname = "container";
};

/// --hostname NAME.
void add_uts_options(CLI::App& app, UtsOptions& options);

/// In the child, inside the new UTS namespace: sethostname(2).  The host's
/// hostname is untouched because the name lives in the namespace.
void set_hostname(const UtsOptions& options);
