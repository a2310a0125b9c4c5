// Resource limits (man 2 getrlimit) are per process and inherited across
// fork and execve; the container's process gets them set by nsrun just
// before it execs, as runc does.  oom_score_adj (man 5 proc) biases the
// kernel's choice of victim when memory runs out: 1000 is killed first,
// -1000 never.  Both are set while the child still holds CAP_SYS_RESOURCE,
// which the container itself does not get.
#include "rlimits.hpp"

#include <nsrun/error.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sys/resource.h>

#include <fmt/format.h>

namespace {

struct Resource {
    const char* docker; ///< --ulimit's name
    const char* oci;    ///< process.rlimits[].type
    int resource;
};

constexpr Resource resources[] = {
    {"as", "RLIMIT_AS", RLIMIT_AS},
    {"core", "RLIMIT_CORE", RLIMIT_CORE},
    {"cpu", "RLIMIT_CPU", RLIMIT_CPU},
    {"data", "RLIMIT_DATA", RLIMIT_DATA},
    {"fsize", "RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"locks", "RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"memlock", "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"msgqueue", "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"nice", "RLIMIT_NICE", RLIMIT_NICE},
    {"nofile", "RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"nproc", "RLIMIT_NPROC", RLIMIT_NPROC},
    {"rss", "RLIMIT_RSS", RLIMIT_RSS},
    {"rtprio", "RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"rttime", "RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"sigpending", "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"stack", "RLIMIT_STACK", RLIMIT_STACK},
};

const Resource* by_oci_name(const std::string& type) {
    const auto* it = std::find_if(std::begin(resources), std::end(resources),
                                  [&](const Resource& r) { return type == r.oci; });
    return it == std::end(resources) ? nullptr : it;
}

std::string known_names() {
    std::string names;
    for (const auto& r : resources) {
        names += (names.empty() ? "" : ", ") + std::string(r.docker);
    }
    return names;
}

/// "-1"/"unlimited" → RLIM_INFINITY, else a whole number.
std::optional<std::uint64_t> parse_limit(const std::string& text) {
    if (text == "-1" || text == "unlimited") {
        return RLIM64_INFINITY;
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::string shown(std::uint64_t v) { return v == RLIM64_INFINITY ? "unlimited" : std::to_string(v); }

} // namespace

Rlimit parse_ulimit(const std::string& text) {
    const auto eq = text.find('=');
    std::string name = text.substr(0, eq);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto* it = std::find_if(std::begin(resources), std::end(resources),
                                  [&](const Resource& r) { return name == r.docker; });
    if (eq == std::string::npos || it == std::end(resources)) {
        throw nsrun::Error{fmt::format("--ulimit {}: give NAME=SOFT[:HARD] with a NAME from: {}", text, known_names()),
                           "e.g. --ulimit nofile=1024:2048"};
    }
    const std::string values = text.substr(eq + 1);
    const auto colon = values.find(':');
    const auto soft = parse_limit(values.substr(0, colon));
    const auto hard = colon == std::string::npos ? soft : parse_limit(values.substr(colon + 1));
    if (!soft || !hard) {
        throw nsrun::Error{fmt::format("--ulimit {}: the limits must be whole numbers (or -1, unlimited)", text),
                           "e.g. --ulimit nofile=1024:2048"};
    }
    if (*soft > *hard) {
        throw nsrun::Error{fmt::format("--ulimit {}: the soft limit {} is above the hard limit {}", text, shown(*soft),
                                       shown(*hard)),
                           "the soft limit is what applies; the hard limit is its ceiling: SOFT <= HARD"};
    }
    return Rlimit{.type = it->oci, .hard = *hard, .soft = *soft};
}

void check_process_limits(const Process& process) {
    for (const auto& limit : process.rlimits) {
        if (by_oci_name(limit.type) == nullptr) {
            throw nsrun::Error{fmt::format("process.rlimits: {} is not a resource limit nsrun knows", limit.type),
                               "use getrlimit(2)'s names, e.g. RLIMIT_NOFILE"};
        }
        if (limit.soft > limit.hard) {
            throw nsrun::Error{fmt::format("process.rlimits {}: the soft limit {} is above the hard limit {}",
                                           limit.type, shown(limit.soft), shown(limit.hard)),
                               "SOFT <= HARD"};
        }
    }
    if (process.oom_score_adj && (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000)) {
        throw nsrun::Error{fmt::format("--oom-score-adj {}: out of range", *process.oom_score_adj),
                           "give a number from -1000 (never killed for lack of memory) to 1000 (killed first)"};
    }
}

void apply_process_limits(const Process& process) {
    for (const auto& limit : process.rlimits) {
        const Resource* r = by_oci_name(limit.type);
        if (r == nullptr) {
            throw nsrun::Error{fmt::format("process.rlimits: {} is not a resource limit nsrun knows", limit.type)};
        }
        try {
            nsrun::sys::setrlimit(r->resource, limit.soft, limit.hard, limit.type);
        } catch (const nsrun::SysError& e) {
            throw nsrun::Error{fmt::format("--ulimit {}={}:{}: {}", r->docker, shown(limit.soft), shown(limit.hard),
                                           e.what()),
                               limit.type == "RLIMIT_NOFILE" ? "nofile cannot exceed the kernel's fs.nr_open"
                                                             : "give a smaller limit"};
        }
    }
    if (process.oom_score_adj) {
        try {
            nsrun::sys::write_file("/proc/self/oom_score_adj", std::to_string(*process.oom_score_adj));
        } catch (const nsrun::SysError& e) {
            throw nsrun::Error{fmt::format("--oom-score-adj {}: {}", *process.oom_score_adj, e.what()),
                               "a score below the runtime's own needs CAP_SYS_RESOURCE, which nsrun lacks here"};
        }
    }
}
