// The user namespace (man 7 user_namespaces).  Inside, a process can be
// uid 0 with every capability — over the objects its user namespace owns:
// the UTS, PID, mount and cgroup namespaces created with it, the mounts it
// makes, the hostname.  Outside, it is whoever the map says: an ordinary,
// unprivileged host uid.  The kernel still checks every file access against
// the *host* ids, so a file owned by an unmapped host uid (e.g. host root)
// shows up inside as the overflow id 65534, "nobody", and root inside cannot
// change it.  What the host alone owns stays out of reach: mknod of devices,
// a fresh sysfs (it needs a network namespace owned by the user namespace),
// loading modules, the host's cgroups.
//
// The maps (/proc/PID/uid_map, gid_map) can be written once, by a process
// with privileges over the *parent* namespace — so the parent writes them,
// while the child waits on the handshake; only then does the child become
// root inside (before the maps exist its ids are all "nobody").  An
// unprivileged writer may map only its own uid, and must first write "deny"
// to /proc/PID/setgroups, so that a group it was denied cannot be dropped
// inside to gain access (CVE-2014-8989).
#include "userns.hpp"

#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <charconv>
#include <tuple>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace {

/// The kernel accepts at most this many lines per map (since Linux 4.15).
constexpr std::size_t max_map_lines = 340;
/// podman's and docker's customary subordinate range for container root.
constexpr IdRange default_range{0, 100000, 65536};

std::string text_of(const IdRange& r) { return fmt::format("{}:{}:{}", r.inside, r.outside, r.count); }

/// "C:H:N" → IdRange, or an error message.
std::string parse_range(const std::string& text, IdRange& range) {
    const std::string accepted =
        "give CONTAINER:HOST:COUNT, e.g. 0:100000:65536 (whole numbers, COUNT >= 1, each range within 0-4294967295)";
    std::uint64_t parts[3] = {};
    const char* at = text.data();
    const char* const end = text.data() + text.size();
    for (int i = 0; i < 3; ++i) {
        const auto [stop, ec] = std::from_chars(at, end, parts[i]);
        if (ec != std::errc{} || stop == at || (i < 2 && (stop == end || *stop != ':')) || (i == 2 && stop != end)) {
            return fmt::format("'{}' is not a map: {}", text, accepted);
        }
        at = stop + 1;
    }
    constexpr std::uint64_t limit = 1ULL << 32;
    if (parts[2] == 0 || parts[0] >= limit || parts[1] >= limit || parts[0] + parts[2] > limit ||
        parts[1] + parts[2] > limit) {
        return fmt::format("'{}' is out of range: {}", text, accepted);
    }
    range = {static_cast<std::uint32_t>(parts[0]), static_cast<std::uint32_t>(parts[1]),
             static_cast<std::uint32_t>(parts[2])};
    return {};
}

bool overlap(std::uint64_t a, std::uint64_t a_count, std::uint64_t b, std::uint64_t b_count) {
    return a < b + b_count && b < a + a_count;
}

/// The whole map must be acceptable to the kernel: no two ranges overlap,
/// inside or outside; and container root must be mapped (we become it).
std::string map_problem(const std::vector<IdRange>& ranges) {
    if (ranges.size() > max_map_lines) {
        return fmt::format("at most {} ranges can be mapped", max_map_lines);
    }
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        for (std::size_t j = i + 1; j < ranges.size(); ++j) {
            const IdRange& a = ranges[i];
            const IdRange& b = ranges[j];
            if (overlap(a.inside, a.count, b.inside, b.count) || overlap(a.outside, a.count, b.outside, b.count)) {
                return fmt::format("{} and {} overlap: give CONTAINER:HOST:COUNT ranges that share no id, "
                                   "inside or outside",
                                   text_of(a), text_of(b));
            }
        }
    }
    const bool root_mapped = std::any_of(ranges.begin(), ranges.end(), [](const IdRange& r) { return r.inside == 0; });
    if (!ranges.empty() && !root_mapped) {
        return "container id 0 (root) must be mapped, e.g. 0:100000:65536";
    }
    return {};
}

void write_map(pid_t child, const char* file, const std::vector<IdRange>& ranges) {
    std::string lines;
    for (const auto& r : ranges) {
        lines += fmt::format("{} {} {}\n", r.inside, r.outside, r.count);
    }
    nsrun::sys::write_file(fmt::format("/proc/{}/{}", child, file), lines);
}

/// Whether host id `id` is one of the map's outside ids.
bool maps_host_id(const std::vector<IdRange>& ranges, std::uint32_t id) {
    return std::any_of(ranges.begin(), ranges.end(), [id](const IdRange& r) {
        return id >= r.outside && static_cast<std::uint64_t>(id) < static_cast<std::uint64_t>(r.outside) + r.count;
    });
}

} // namespace

std::string parse_id_map(const std::vector<std::string>& texts, std::vector<IdRange>& ranges) {
    ranges.clear();
    for (const auto& text : texts) {
        IdRange range;
        if (std::string problem = parse_range(text, range); !problem.empty()) {
            return problem;
        }
        ranges.push_back(range);
    }
    return map_problem(ranges);
}

int UserNamespace::clone_flag() const { return enabled ? CLONE_NEWUSER : 0; }

UserNamespace plan_user_namespace(const UsernsOptions& options) {
    UserNamespace plan;
    const bool asked = options.userns || !options.uid_ranges.empty() || !options.gid_ranges.empty();
    if (::geteuid() != 0) {
        // Rootless: a user may map only its own ids, one each.
        const IdRange own_uid{0, ::geteuid(), 1};
        const IdRange own_gid{0, ::getegid(), 1};
        for (const auto& [flag, ranges, own] : {std::tuple{"--uidmap", &options.uid_ranges, own_uid},
                                               std::tuple{"--gidmap", &options.gid_ranges, own_gid}}) {
            for (const auto& r : *ranges) {
                if (r.inside != own.inside || r.outside != own.outside || r.count != own.count) {
                    throw nsrun::Error{
                        fmt::format("{} {}: without root only your own id can be mapped ({})", flag, text_of(r),
                                    text_of(own)),
                        "run as root to map other ranges, or leave the flag out"};
                }
            }
        }
        plan = {true, true, {own_uid}, {own_gid}};
        nsrun::explain::note("rootless (euid {}): a user namespace mapping container root to uid {}, gid {}",
                             ::geteuid(), ::geteuid(), ::getegid());
        return plan;
    }
    if (!asked) {
        return plan;
    }
    plan.enabled = true;
    plan.uids = options.uid_ranges;
    plan.gids = options.gid_ranges;
    // podman's rule: one map given, the other is the same.
    if (plan.uids.empty()) {
        plan.uids = plan.gids.empty() ? std::vector<IdRange>{default_range} : plan.gids;
    }
    if (plan.gids.empty()) {
        plan.gids = plan.uids;
    }
    return plan;
}

void check_rootfs_access(const UserNamespace& userns, const RootfsOptions& rootfs) {
    if (!userns.enabled) {
        return;
    }
    struct stat st {};
    if (::stat(rootfs.dir.c_str(), &st) == -1) {
        return; // check_rootfs reports it
    }
    // The kernel checks the host ids: others' bits, or owner/group bits
    // when the owner/group is one of the mapped host ids.
    const auto has = [&st](mode_t bits) { return (st.st_mode & bits) == bits; };
    const bool readable = has(S_IROTH | S_IXOTH) ||
                          (maps_host_id(userns.uids, st.st_uid) && has(S_IRUSR | S_IXUSR)) ||
                          (maps_host_id(userns.gids, st.st_gid) && has(S_IRGRP | S_IXGRP));
    if (!readable || (userns.rootless && ::access(rootfs.dir.c_str(), R_OK | X_OK) == -1)) {
        const auto root = std::find_if(userns.uids.begin(), userns.uids.end(),
                                       [](const IdRange& r) { return r.inside == 0; });
        throw nsrun::Error{fmt::format("--rootfs {}: the container's root (host uid {}) cannot read it (mode {:o}, "
                                       "owner {}:{})",
                                       rootfs.dir, root == userns.uids.end() ? 0 : root->outside, st.st_mode & 07777,
                                       st.st_uid, st.st_gid),
                           "give the mapped user read and search access (e.g. chmod o+rx), or map its owner"};
    }
}

void write_id_maps(const UserNamespace& userns, pid_t child) {
    if (!userns.enabled) {
        return;
    }
    write_map(child, "uid_map", userns.uids);
    // Must precede gid_map; "deny" is required of an unprivileged writer.
    nsrun::sys::write_file(fmt::format("/proc/{}/setgroups", child), userns.rootless ? "deny" : "allow");
    write_map(child, "gid_map", userns.gids);
}

void become_root(const UserNamespace& userns) {
    if (!userns.enabled) {
        return;
    }
    if (!userns.rootless) {
        nsrun::sys::clear_groups(); // the host's supplementary groups must not follow us in
    }
    nsrun::sys::setresgid(0);
    nsrun::sys::setresuid(0);
}
