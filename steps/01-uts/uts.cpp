// The UTS namespace (man 7 uts_namespaces) isolates two identifiers: the
// hostname and the NIS domain name.  After clone(CLONE_NEWUTS) the child has
// a copy of the host's; sethostname(2) changes only the copy.
#include "uts.hpp"

#include <nsrun/sys.hpp>

#include <fmt/format.h>

namespace {

/// The kernel's limit (HOST_NAME_MAX): sethostname(2) fails with EINVAL beyond it.
constexpr std::size_t max_hostname = 64;

} // namespace

std::string check_hostname(const std::string& name) {
    if (name.empty()) {
        return "the hostname must not be empty";
    }
    if (name.size() > max_hostname) {
        return fmt::format("the hostname is {} characters long; the kernel allows at most {}",
                           name.size(), max_hostname);
    }
    return {};
}

void set_hostname(const UtsOptions& options) { nsrun::sys::sethostname(options.hostname); }
