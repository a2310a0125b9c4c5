// Capabilities: names through libcap (cap_from_name, cap_to_name,
// cap_max_bits: the kernel's own count), the sets as bit masks, and the
// syscalls (prctl, capset) through common's narrated wrappers.
//
// Order matters, as in runc: the bounding set is cut while the process is
// still root (it needs CAP_SETPCAP), the uid changes with PR_SET_KEEPCAPS
// so that the permitted set survives it, and only then are the final
// effective/permitted/inheritable sets set with capset(2).
#include "caps.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <sys/capability.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace {

/// Capability number → "CAP_NAME" (libcap's name, upper case).
std::string name_of(int cap) {
    const std::unique_ptr<char, int (*)(void*)> text{::cap_to_name(static_cast<cap_value_t>(cap)), ::cap_free};
    std::string name = text ? text.get() : fmt::format("{}", cap);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    return name.starts_with("CAP_") ? name : "CAP_" + name;
}

/// "CAP_NAME" → its number, or -1.
int number_of(const std::string& name) {
    cap_value_t value = 0;
    if (::cap_from_name(name.c_str(), &value) != 0 || value < 0 || value >= static_cast<int>(::cap_max_bits())) {
        return -1;
    }
    return static_cast<int>(value);
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::string describe(const std::vector<std::string>& names) {
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, "|"));
}

} // namespace

const std::vector<std::string>& default_capabilities() {
    static const std::vector<std::string> caps = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",  "CAP_FOWNER",           "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",  "CAP_SETFCAP",          "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    };
    return caps;
}

std::vector<std::string> all_capabilities() {
    std::vector<std::string> caps;
    for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap) {
        caps.push_back(name_of(cap));
    }
    return caps;
}

std::string normalize_capability(const std::string& name, const std::string& flag) {
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper == "ALL") {
        return upper;
    }
    if (!upper.starts_with("CAP_")) {
        upper = "CAP_" + upper;
    }
    // Letters and '_' only: libcap would also take a bare number.
    const bool word = upper.size() > 4 && std::all_of(upper.begin(), upper.end(), [](unsigned char c) {
                          return std::isupper(c) || c == '_';
                      });
    if (!word || number_of(upper) < 0) {
        throw nsrun::Error{fmt::format("{} {}: not a capability this kernel knows", flag, name),
                           "give a name from capabilities(7), e.g. NET_ADMIN or CAP_SYS_PTRACE, or ALL"};
    }
    return upper;
}

std::vector<std::string> runtime_capabilities() {
    // One read of /proc/self/status ("CapBnd:\t000001ffffffffff") instead of
    // a prctl(PR_CAPBSET_READ) per capability: ~40 system calls less on
    // every start.  Without /proc, ask the kernel one capability at a time.
    std::optional<std::uint64_t> bounding;
    try {
        const std::string status = nsrun::sys::read_file("/proc/self/status");
        if (const auto at = status.find("\nCapBnd:"); at != std::string::npos) {
            const auto digits = status.find_first_not_of(" \t", at + 8);
            std::uint64_t mask = 0;
            const char* end = status.data() + status.size();
            if (digits != std::string::npos &&
                std::from_chars(status.data() + digits, end, mask, 16).ec == std::errc{}) {
                bounding = mask;
            }
        }
    } catch (const nsrun::Error&) {
    }
    std::vector<std::string> caps;
    for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap) {
        const bool held = bounding ? cap < 64 && ((*bounding >> cap) & 1U) != 0
                                   : ::cap_get_bound(static_cast<cap_value_t>(cap)) == 1;
        if (held) {
            caps.push_back(name_of(cap));
        }
    }
    return caps;
}

std::vector<std::string> capability_set(const std::vector<std::string>& add, const std::vector<std::string>& drop,
                                        bool privileged, const std::vector<std::string>& available) {
    for (const auto& cap : add) {
        if (cap != "ALL" && !contains(available, cap)) {
            throw nsrun::Error{fmt::format("--cap-add {}: nsrun itself does not have it (not in its bounding set)", cap),
                               "a container can only get capabilities its runtime has: run nsrun where it has them"};
        }
    }
    std::vector<std::string> set;
    if (privileged || contains(add, "ALL")) {
        for (const auto& cap : available) {
            if (!contains(drop, cap)) {
                set.push_back(cap);
            }
        }
    } else {
        if (!contains(drop, "ALL")) {
            for (const auto& cap : default_capabilities()) {
                if (!contains(drop, cap) && contains(available, cap)) {
                    set.push_back(cap);
                }
            }
        }
        for (const auto& cap : add) {
            if (!contains(set, cap)) {
                set.push_back(cap);
            }
        }
    }
    std::sort(set.begin(), set.end(), [](const auto& a, const auto& b) { return number_of(a) < number_of(b); });
    return set;
}

Capabilities capabilities_for(const std::vector<std::string>& set, const User& user) {
    const bool root = user.uid == 0;
    return {set, root ? set : std::vector<std::string>{}, set, root ? set : std::vector<std::string>{}, {}};
}

std::uint64_t capability_mask(const std::vector<std::string>& names) {
    std::uint64_t mask = 0;
    for (const auto& name : names) {
        const int cap = number_of(name);
        if (cap < 0 || cap >= 64) {
            throw nsrun::Error{fmt::format("{}: not a capability this kernel knows", name)};
        }
        mask |= std::uint64_t{1} << cap;
    }
    return mask;
}

void restrict_bounding_set(const Capabilities& caps) {
    for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap) {
        const std::string name = name_of(cap);
        if (!contains(caps.bounding, name)) {
            nsrun::sys::drop_bounding_capability(cap, name);
        }
    }
}

void set_capabilities(const Capabilities& caps) {
    nsrun::sys::capset(capability_mask(caps.effective), capability_mask(caps.permitted),
                       capability_mask(caps.inheritable),
                       fmt::format("effective={}, permitted={}, inheritable={}", describe(caps.effective),
                                   describe(caps.permitted), describe(caps.inheritable)));
    nsrun::sys::clear_ambient_capabilities();
    for (const auto& name : caps.ambient) {
        // The kernel raises an ambient capability only if it is permitted
        // and inheritable (EPERM otherwise).  `runc spec` writes ambient
        // capabilities with no inheritable set, and runc goes on without
        // them: so does nsrun, saying so under --explain, rather than
        // refuse the config.json every runc user starts from.
        if (!contains(caps.permitted, name) || !contains(caps.inheritable, name)) {
            nsrun::explain::note("ambient {} skipped: not both permitted and inheritable (as runc does)", name);
            continue;
        }
        nsrun::sys::raise_ambient_capability(number_of(name), name);
    }
}
