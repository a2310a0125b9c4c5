// config.json → ContainerSpec.  Every field is read through a checker that
// knows its JSON path, so a refusal names exactly what to change:
// `config.json: linux.namespaces[3].type: "time" namespaces are not supported`.
#include "oci_config.hpp"

#include "caps.hpp"
#include "masks.hpp"
#include "seccomp.hpp"
#include "userns.hpp"
#include "uts.hpp"

#include <nsrun/error.hpp>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <set>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <seccomp.h>

using json = nlohmann::json;

namespace {

// --- reading a field, with its path --------------------------------------------

[[noreturn]] void refuse(const std::string& path, const std::string& problem, const std::string& hint = {}) {
    throw nsrun::Error{fmt::format("config.json: {}: {}", path, problem), hint};
}

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string item(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

/// A member that is present and not null, or nullptr (the spec's "OPTIONAL").
const json* member(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void wrong_type(const json& j, const std::string& path, const char* expected) {
    refuse(path, fmt::format("is {} {}, {} was expected", j.is_array() || j.is_object() ? "an" : "a", j.type_name(),
                             expected),
           "see the OCI runtime spec's config.md for the field's type");
}

const json& as_object(const json& j, const std::string& path) {
    if (!j.is_object()) wrong_type(j, path, "an object");
    return j;
}

const json& as_array(const json& j, const std::string& path) {
    if (!j.is_array()) wrong_type(j, path, "an array");
    return j;
}

std::string as_string(const json& j, const std::string& path) {
    if (!j.is_string()) wrong_type(j, path, "a string");
    return j.get<std::string>();
}

bool as_bool(const json& j, const std::string& path) {
    if (!j.is_boolean()) wrong_type(j, path, "a boolean");
    return j.get<bool>();
}

std::uint64_t as_u64(const json& j, const std::string& path) {
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
        wrong_type(j, path, "a whole number ≥ 0");
    }
    return j.get<std::uint64_t>();
}

std::int64_t as_i64(const json& j, const std::string& path) {
    if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
        refuse(path, fmt::format("{} is out of range", j.dump()), "give a 64-bit signed number");
    }
    if (!j.is_number_integer()) wrong_type(j, path, "a whole number");
    return j.get<std::int64_t>();
}

std::uint32_t as_u32(const json& j, const std::string& path) {
    const std::uint64_t value = as_u64(j, path);
    if (value > UINT32_MAX) {
        refuse(path, fmt::format("{} is out of range (at most {})", value, UINT32_MAX), "ids are 32-bit numbers");
    }
    return static_cast<std::uint32_t>(value);
}

std::vector<std::string> as_strings(const json& j, const std::string& path) {
    std::vector<std::string> out;
    std::size_t i = 0;
    for (const auto& e : as_array(j, path)) {
        out.push_back(as_string(e, item(path, i++)));
    }
    return out;
}

const json& required(const json& object, const char* key, const std::string& path) {
    const json* j = member(object, key);
    if (!j) {
        refuse(child(path, key), "is required", "see the OCI runtime spec's config.md");
    }
    return *j;
}

/// Does a field ask for something (so that refusing it is right)?  null,
/// "", [], {}, false and 0 ask for nothing: callers write defaults.
bool asks_for_something(const json& j) {
    if (j.is_null()) return false;
    if (j.is_string()) return !j.get_ref<const std::string&>().empty(); // json::empty() is false for any string
    if (j.is_array() || j.is_object()) return !j.empty();
    if (j.is_boolean()) return j.get<bool>();
    if (j.is_number()) return j != 0;
    return true;
}

/// A field nsrun knows but cannot honour: refused when it asks for something.
void refuse_if_set(const json& object, const char* key, const std::string& path, const std::string& why,
                   const std::string& hint) {
    if (const auto it = object.find(key); it != object.end() && asks_for_something(*it)) {
        refuse(child(path, key), why, hint);
    }
}

std::string absolute_path(const json& j, const std::string& path) {
    std::string value = as_string(j, path);
    if (value.empty() || value.front() != '/') {
        refuse(path, fmt::format("\"{}\" is not an absolute path", value), "paths inside the container start with /");
    }
    return value;
}

/// A path from config.json that may be relative to the bundle.
std::string in_bundle(const std::filesystem::path& bundle, const std::string& value) {
    const std::filesystem::path p(value);
    std::string out = (p.is_absolute() ? p : bundle / p).lexically_normal().string();
    if (out.size() > 1 && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

// --- process -------------------------------------------------------------------------------

const std::map<std::string, int>& rlimit_numbers() {
    static const std::map<std::string, int> numbers = {
        {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    return numbers;
}

std::vector<Rlimit> parse_rlimits(const json& j, const std::string& path) {
    std::vector<Rlimit> rlimits;
    std::size_t i = 0;
    for (const auto& r : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(r, at);
        Rlimit limit{as_string(required(r, "type", at), child(at, "type")), as_u64(required(r, "hard", at), child(at, "hard")),
                     as_u64(required(r, "soft", at), child(at, "soft"))};
        if (!rlimit_numbers().contains(limit.type)) {
            refuse(child(at, "type"), fmt::format("\"{}\" is not a resource limit", limit.type),
                   "give one of getrlimit(2)'s names, e.g. RLIMIT_NOFILE");
        }
        if (limit.soft > limit.hard) {
            refuse(at, fmt::format("soft {} is above hard {}", limit.soft, limit.hard),
                   "setrlimit(2) refuses a soft limit above the hard one");
        }
        if (std::any_of(rlimits.begin(), rlimits.end(), [&](const Rlimit& o) { return o.type == limit.type; })) {
            refuse(child(at, "type"), fmt::format("{} is given twice", limit.type), "give each limit once");
        }
        rlimits.push_back(std::move(limit));
    }
    return rlimits;
}

Capabilities parse_capabilities(const json& j, const std::string& path) {
    as_object(j, path);
    static const std::vector<std::string> known = all_capabilities();
    Capabilities caps;
    for (auto [key, set] : {std::pair{"bounding", &caps.bounding}, std::pair{"effective", &caps.effective},
                            std::pair{"inheritable", &caps.inheritable}, std::pair{"permitted", &caps.permitted},
                            std::pair{"ambient", &caps.ambient}}) {
        const json* names = member(j, key);
        if (!names) {
            continue;
        }
        *set = as_strings(*names, child(path, key));
        for (std::size_t i = 0; i < set->size(); ++i) {
            if (std::find(known.begin(), known.end(), (*set)[i]) == known.end()) {
                refuse(item(child(path, key), i), fmt::format("\"{}\" is not a capability of this kernel", (*set)[i]),
                       "capability names are spelled CAP_CHOWN, CAP_NET_ADMIN, … (man 7 capabilities)");
            }
        }
    }
    return caps;
}

User parse_user(const json& j, const std::string& path) {
    as_object(j, path);
    User user;
    user.uid = as_u32(required(j, "uid", path), child(path, "uid"));
    user.gid = as_u32(required(j, "gid", path), child(path, "gid"));
    if (const json* umask = member(j, "umask")) {
        user.umask = as_u32(*umask, child(path, "umask"));
        if (*user.umask > 0777) {
            refuse(child(path, "umask"), fmt::format("{:o} (octal) is not a umask", *user.umask), "a umask is 0 to 0777");
        }
    }
    if (const json* gids = member(j, "additionalGids")) {
        std::size_t i = 0;
        for (const auto& g : as_array(*gids, child(path, "additionalGids"))) {
            user.additional_gids.push_back(as_u32(g, item(child(path, "additionalGids"), i++)));
        }
    }
    refuse_if_set(j, "username", path, "is for Windows containers", "give uid and gid");
    return user;
}

void check_env(const std::vector<std::string>& env, const std::string& path) {
    for (std::size_t i = 0; i < env.size(); ++i) {
        if (env[i].find('=') == std::string::npos || env[i].front() == '=') {
            refuse(item(path, i), fmt::format("\"{}\" is not KEY=value", env[i]), "each entry is KEY=value");
        }
    }
}

Process parse_process(const json& p, const std::string& path) {
    as_object(p, path);
    Process process;
    if (const json* t = member(p, "terminal")) process.terminal = as_bool(*t, child(path, "terminal"));
    if (const json* size = member(p, "consoleSize")) {
        const std::string at = child(path, "consoleSize");
        as_object(*size, at);
        process.console_size = ConsoleSize{as_u32(required(*size, "height", at), child(at, "height")),
                                           as_u32(required(*size, "width", at), child(at, "width"))};
    }
    process.user = parse_user(required(p, "user", path), child(path, "user"));
    process.args = as_strings(required(p, "args", path), child(path, "args"));
    if (process.args.empty() || process.args.front().empty()) {
        refuse(child(path, "args"), "names no program", "give the program and its arguments, e.g. [\"sh\"]");
    }
    if (const json* env = member(p, "env")) {
        process.env = as_strings(*env, child(path, "env"));
        check_env(process.env, child(path, "env"));
    }
    process.cwd = absolute_path(required(p, "cwd", path), child(path, "cwd"));
    if (const json* caps = member(p, "capabilities")) {
        process.capabilities = parse_capabilities(*caps, child(path, "capabilities"));
    }
    if (const json* r = member(p, "rlimits")) process.rlimits = parse_rlimits(*r, child(path, "rlimits"));
    if (const json* n = member(p, "noNewPrivileges")) {
        process.no_new_privileges = as_bool(*n, child(path, "noNewPrivileges"));
    }
    if (const json* oom = member(p, "oomScoreAdj")) {
        const std::int64_t value = as_i64(*oom, child(path, "oomScoreAdj"));
        if (value < -1000 || value > 1000) {
            refuse(child(path, "oomScoreAdj"), fmt::format("{} is out of range", value), "give -1000 to 1000");
        }
        process.oom_score_adj = static_cast<int>(value);
    }
    refuse_if_set(p, "commandLine", path, "is for Windows containers", "give args");
    refuse_if_set(p, "apparmorProfile", path, "nsrun applies no AppArmor profile",
                  "remove it (podman: --security-opt apparmor=unconfined); seccomp, capabilities and the masked "
                  "paths still confine the container");
    refuse_if_set(p, "selinuxLabel", path, "nsrun sets no SELinux label",
                  "remove it (podman: --security-opt label=disable)");
    refuse_if_set(p, "scheduler", path, "nsrun does not set a scheduling policy", "remove it");
    refuse_if_set(p, "ioPriority", path, "nsrun does not set an I/O priority", "remove it");
    refuse_if_set(p, "execCPUAffinity", path, "nsrun does not set a CPU affinity", "remove it");
    return process;
}

// --- mounts --------------------------------------------------------------------------------

/// The mount options nsrun accepts as flags: mount(2)'s MS_* and
/// mount_setattr(2)'s recursive forms ("r…"), bind and propagation.
const std::vector<std::string>& flag_options() {
    static const std::vector<std::string> flags = {
        "acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
        "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
        "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "rexec",
        "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow",
        "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow",
        "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", "unbindable"};
    return flags;
}

bool is_flag(const std::string& option) {
    const auto& flags = flag_options();
    return std::find(flags.begin(), flags.end(), option) != flags.end();
}

/// The filesystem types a config.json mount may have (besides bind mounts).
const std::set<std::string>& filesystem_types() {
    static const std::set<std::string> types = {"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2"};
    return types;
}

/// Options that are neither a flag nor KEY=value data: refused with a
/// reason (they need machinery nsrun does not have).
std::optional<std::string> unsupported_option(const std::string& option) {
    if (option == "tmpcopyup") return "copying the image's files into a tmpfs is not supported";
    if (option == "idmap" || option == "ridmap" || option.starts_with("X-mount.idmap")) {
        return "idmapped mounts are not supported";
    }
    if (option == "remount") return "a remount in config.json is not supported";
    return std::nullopt;
}

void check_mount_options(const Mount& m, bool bind, const std::string& path) {
    for (std::size_t i = 0; i < m.options.size(); ++i) {
        const std::string& option = m.options[i];
        const std::string at = item(path, i);
        if (is_flag(option)) {
            continue;
        }
        if (const auto why = unsupported_option(option)) {
            refuse(at, fmt::format("\"{}\": {}", option, *why), "remove the option");
        }
        const bool data = option.find('=') != std::string::npos && option.front() != '=';
        const bool bare_data = m.type == "devpts" && option == "newinstance";
        if (bind && (data || bare_data)) {
            refuse(at, fmt::format("\"{}\" is a filesystem's option; a bind mount takes none", option),
                   "bind mounts take flags only: ro, nosuid, nodev, noexec, rbind, rprivate, …");
        }
        if (!data && !bare_data) {
            refuse(at, fmt::format("\"{}\" is not a mount option nsrun knows", option),
                   "see `nsrun features` (mountOptions) for the flags; a filesystem's own options are KEY=VALUE");
        }
    }
}

Mount parse_mount(const json& j, const std::string& path, const std::filesystem::path& bundle) {
    as_object(j, path);
    Mount m;
    m.destination = absolute_path(required(j, "destination", path), child(path, "destination"));
    if (const json* type = member(j, "type")) m.type = as_string(*type, child(path, "type"));
    if (const json* source = member(j, "source")) m.source = as_string(*source, child(path, "source"));
    if (const json* options = member(j, "options")) m.options = as_strings(*options, child(path, "options"));
    refuse_if_set(j, "uidMappings", path, "idmapped mounts are not supported", "remove the mapping");
    refuse_if_set(j, "gidMappings", path, "idmapped mounts are not supported", "remove the mapping");
    const auto has = [&](const char* o) { return std::find(m.options.begin(), m.options.end(), o) != m.options.end(); };
    // A bind mount is spelled three ways: type "bind", type "rbind", or any
    // type ("none", "") with a bind/rbind option (runc spec --rootless's /sys).
    const bool bind = m.type == "bind" || m.type == "rbind" || has("bind") || has("rbind");
    if (bind) {
        if (m.type == "rbind" && !has("rbind")) {
            m.options.push_back("rbind");
        }
        if (!m.type.empty() && m.type != "bind" && m.type != "rbind" && m.type != "none") {
            refuse(child(path, "type"), fmt::format("\"{}\" with a bind option: a bind mount's type is \"bind\"", m.type),
                   "give type \"bind\" for a bind mount, or drop the bind/rbind option");
        }
        m.type = "bind";
        if (m.source.empty()) {
            refuse(child(path, "source"), "a bind mount needs a source", "give the host path to bind");
        }
        m.source = in_bundle(bundle, m.source); // relative sources are the bundle's (config.md)
    } else if (!filesystem_types().contains(m.type)) {
        refuse(child(path, "type"),
               m.type.empty() ? std::string("is missing") : fmt::format("\"{}\" mounts are not supported", m.type),
               "give bind, rbind, proc, sysfs, tmpfs, devpts, mqueue, cgroup or cgroup2");
    } else if (m.source.empty()) {
        m.source = m.type;
    }
    check_mount_options(m, bind, child(path, "options"));
    return m;
}

// --- linux ---------------------------------------------------------------------------------

const std::vector<std::string>& namespace_types() {
    static const std::vector<std::string> types = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup"};
    return types;
}

std::vector<Namespace> parse_namespaces(const json& j, const std::string& path) {
    std::vector<Namespace> namespaces;
    std::size_t i = 0;
    for (const auto& n : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(n, at);
        Namespace ns{as_string(required(n, "type", at), child(at, "type")), ""};
        if (ns.type == "time") {
            refuse(child(at, "type"), "\"time\" namespaces are not supported",
                   "remove it: the container then shares the host's clocks (as it would under docker)");
        }
        if (std::find(namespace_types().begin(), namespace_types().end(), ns.type) == namespace_types().end()) {
            refuse(child(at, "type"), fmt::format("\"{}\" is not a namespace type", ns.type),
                   "give pid, network, mount, ipc, uts, user or cgroup");
        }
        if (const json* p = member(n, "path")) {
            ns.path = absolute_path(*p, child(at, "path"));
        }
        if (std::any_of(namespaces.begin(), namespaces.end(), [&](const Namespace& o) { return o.type == ns.type; })) {
            refuse(child(at, "type"), fmt::format("the {} namespace is given twice", ns.type), "give each type once");
        }
        namespaces.push_back(std::move(ns));
    }
    return namespaces;
}

std::vector<IdRange> parse_mappings(const json& j, const std::string& path) {
    std::vector<IdRange> ranges;
    std::size_t i = 0;
    for (const auto& r : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(r, at);
        IdRange range{as_u32(required(r, "containerID", at), child(at, "containerID")),
                      as_u32(required(r, "hostID", at), child(at, "hostID")), as_u32(required(r, "size", at), child(at, "size"))};
        if (range.count == 0) {
            refuse(child(at, "size"), "is 0", "a mapping maps at least one id");
        }
        ranges.push_back(range);
    }
    try {
        check_id_map(path, ranges);
    } catch (const nsrun::Error& e) {
        throw nsrun::Error{fmt::format("config.json: {}", e.what()),
                           e.hint().empty() ? "each line maps containerID..+size to hostID..+size, once" : e.hint()};
    }
    return ranges;
}

/// The user namespace and the mappings must agree: a new one needs both
/// maps, a joined one or none takes no maps (the kernel writes a map once).
void check_user_namespace(const Linux& linux, const json& l) {
    const Namespace* user = linux.find("user");
    const bool maps = !linux.uid_mappings.empty() || !linux.gid_mappings.empty();
    if (maps && (!user || !user->path.empty())) {
        refuse(member(l, "uidMappings") ? "linux.uidMappings" : "linux.gidMappings",
               user ? "the user namespace is joined by path: its maps are already written"
                    : "mappings need a user namespace",
               user ? "remove the mappings" : "add {\"type\": \"user\"} to linux.namespaces");
    }
    if (user && user->path.empty() && (linux.uid_mappings.empty() || linux.gid_mappings.empty())) {
        refuse(linux.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings",
               "a new user namespace needs both uidMappings and gidMappings",
               "map container root, e.g. [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    }
}

std::vector<DeviceNode> parse_device_nodes(const json& j, const std::string& path) {
    std::vector<DeviceNode> nodes;
    std::size_t i = 0;
    for (const auto& d : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(d, at);
        DeviceNode node;
        node.path = absolute_path(required(d, "path", at), child(at, "path"));
        node.type = as_string(required(d, "type", at), child(at, "type"));
        if (node.type != "c" && node.type != "b" && node.type != "u" && node.type != "p") {
            refuse(child(at, "type"), fmt::format("\"{}\" is not a device type", node.type),
                   "give c (char), b (block), u (unbuffered char) or p (fifo)");
        }
        if (node.type != "p") {
            node.major = as_i64(required(d, "major", at), child(at, "major"));
            node.minor = as_i64(required(d, "minor", at), child(at, "minor"));
        }
        if (const json* mode = member(d, "fileMode")) {
            node.file_mode = as_u32(*mode, child(at, "fileMode"));
            if (*node.file_mode > 07777) {
                refuse(child(at, "fileMode"), fmt::format("{:o} (octal) is more than permission bits", *node.file_mode),
                       "give permission bits only, e.g. 438 (0666)");
            }
        }
        if (const json* uid = member(d, "uid")) node.uid = as_u32(*uid, child(at, "uid"));
        if (const json* gid = member(d, "gid")) node.gid = as_u32(*gid, child(at, "gid"));
        nodes.push_back(std::move(node));
    }
    return nodes;
}

std::vector<DeviceRule> parse_device_rules(const json& j, const std::string& path) {
    std::vector<DeviceRule> rules;
    std::size_t i = 0;
    for (const auto& d : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(d, at);
        DeviceRule rule;
        rule.allow = as_bool(required(d, "allow", at), child(at, "allow"));
        if (const json* type = member(d, "type")) rule.type = as_string(*type, child(at, "type"));
        if (rule.type != "a" && rule.type != "c" && rule.type != "b") {
            refuse(child(at, "type"), fmt::format("\"{}\" is not a device rule type", rule.type),
                   "give a (all), c (char) or b (block)");
        }
        // -1 is how some callers write "any" (*); absent means the same.
        if (const json* major = member(d, "major"); major && as_i64(*major, child(at, "major")) != -1) {
            rule.major = as_i64(*major, child(at, "major"));
        }
        if (const json* minor = member(d, "minor"); minor && as_i64(*minor, child(at, "minor")) != -1) {
            rule.minor = as_i64(*minor, child(at, "minor"));
        }
        for (const auto* number : {&rule.major, &rule.minor}) {
            if (*number && **number < 0) {
                refuse(child(at, number == &rule.major ? "major" : "minor"), fmt::format("{} is negative", **number),
                       "give a device number, or leave it out for any");
            }
        }
        if (const json* access = member(d, "access")) {
            rule.access = as_string(*access, child(at, "access"));
            if (rule.access.empty() || rule.access.find_first_not_of("rwm") != std::string::npos) {
                refuse(child(at, "access"), fmt::format("\"{}\" is not a subset of \"rwm\"", rule.access),
                       "give r (read), w (write) and/or m (mknod), e.g. \"rwm\"");
            }
        }
        rules.push_back(std::move(rule));
    }
    return rules;
}

/// cgroup v2's weight from v1's shares, as runc and crun convert it
/// (shares 2…262144 onto weight 1…10000).
unsigned weight_of_shares(std::uint64_t shares) {
    shares = std::clamp<std::uint64_t>(shares, 2, 262144);
    return static_cast<unsigned>(1 + ((shares - 2) * 9999) / 262142);
}

void parse_memory(const json& m, const std::string& path, Resources& r) {
    as_object(m, path);
    // -1 is "unlimited" in OCI; 0 is how Go callers write "unset".
    if (const json* limit = member(m, "limit"); limit && as_i64(*limit, child(path, "limit")) > 0) {
        r.memory = static_cast<unsigned long long>(as_i64(*limit, child(path, "limit")));
    }
    if (const json* swap = member(m, "swap"); swap && as_i64(*swap, child(path, "swap")) > 0) {
        r.memory_swap = static_cast<unsigned long long>(as_i64(*swap, child(path, "swap")));
        if (r.memory && *r.memory_swap < *r.memory) {
            refuse(child(path, "swap"), fmt::format("{} is below the limit {}", *r.memory_swap, *r.memory),
                   "swap is memory plus swap: give at least the limit, or -1 for no swap limit");
        }
    }
    const std::string hint = "remove it: nsrun sets memory.limit and memory.swap only";
    refuse_if_set(m, "reservation", path, "a memory reservation is not supported", hint);
    refuse_if_set(m, "kernel", path, "kernel memory limits are not supported (deprecated by the kernel)", hint);
    refuse_if_set(m, "kernelTCP", path, "kernel TCP memory limits are not supported", hint);
    refuse_if_set(m, "swappiness", path, "swappiness is not supported", hint);
    refuse_if_set(m, "disableOOMKiller", path, "the OOM killer cannot be disabled", hint);
}

void parse_cpu(const json& c, const std::string& path, Resources& r) {
    as_object(c, path);
    if (const json* shares = member(c, "shares"); shares && as_u64(*shares, child(path, "shares")) > 0) {
        r.cpu_weight = weight_of_shares(as_u64(*shares, child(path, "shares")));
    }
    const json* quota = member(c, "quota");
    if (quota && as_i64(*quota, child(path, "quota")) > 0) {
        std::uint64_t period = 100000; // the kernel's default, µs
        if (const json* p = member(c, "period"); p && as_u64(*p, child(path, "period")) > 0) {
            period = as_u64(*p, child(path, "period"));
        }
        r.cpus = static_cast<double>(as_i64(*quota, child(path, "quota"))) / static_cast<double>(period);
    }
    const std::string hint = "remove it: nsrun sets the CPU quota (quota/period) and weight (shares) only";
    refuse_if_set(c, "cpus", path, "CPU pinning (cpuset) is not supported", hint);
    refuse_if_set(c, "mems", path, "memory node pinning (cpuset) is not supported", hint);
    refuse_if_set(c, "realtimeRuntime", path, "real-time scheduling budgets are not supported", hint);
    refuse_if_set(c, "realtimePeriod", path, "real-time scheduling budgets are not supported", hint);
    refuse_if_set(c, "idle", path, "SCHED_IDLE cgroups are not supported", hint);
    refuse_if_set(c, "burst", path, "CPU burst is not supported", hint);
}

Resources parse_resources(const json& j, const std::string& path) {
    as_object(j, path);
    Resources r;
    if (const json* m = member(j, "memory")) parse_memory(*m, child(path, "memory"), r);
    if (const json* c = member(j, "cpu")) parse_cpu(*c, child(path, "cpu"), r);
    if (const json* p = member(j, "pids")) {
        const std::string at = child(path, "pids");
        as_object(*p, at);
        // 0 and -1 both mean "no limit" to the callers (runc: "max").
        if (const json* limit = member(*p, "limit"); limit && as_i64(*limit, child(at, "limit")) > 0) {
            const std::int64_t value = as_i64(*limit, child(at, "limit"));
            r.pids_limit = static_cast<unsigned>(std::min<std::int64_t>(value, 4194304)); // PID_MAX_LIMIT
        }
    }
    if (const json* d = member(j, "devices")) r.devices = parse_device_rules(*d, child(path, "devices"));
    const std::string hint = "remove it: nsrun sets memory, cpu, pids and devices only";
    refuse_if_set(j, "blockIO", path, "block I/O limits are not supported", hint);
    refuse_if_set(j, "hugepageLimits", path, "huge page limits are not supported", hint);
    refuse_if_set(j, "network", path, "network class ids and priorities are not supported", hint);
    refuse_if_set(j, "rdma", path, "RDMA limits are not supported", hint);
    refuse_if_set(j, "unified", path, "raw cgroup v2 files are not supported", hint);
    return r;
}

/// "/a//b/" → "/a/b" (below each cgroup hierarchy's root), "a/b" → "a/b"
/// (below the runtime's own cgroup).  The systemd form is refused: nsrun
/// drives cgroupfs itself and has no systemd manager.
std::string parse_cgroups_path(const json& j, const std::string& path) {
    const std::string value = as_string(j, path);
    if (value.find(':') != std::string::npos) {
        refuse(path,
               fmt::format("\"{}\" is systemd's slice:prefix:name form; nsrun has no --systemd-cgroup and manages "
                           "cgroupfs itself",
                           value),
               "use the cgroupfs manager (podman --cgroup-manager=cgroupfs; containerd SystemdCgroup = false), "
               "which passes a path like /machine/ID");
    }
    std::string out;
    for (const auto& part : std::filesystem::path(value)) {
        const std::string name = part.string();
        if (name == "..") {
            refuse(path, fmt::format("\"{}\" climbs out with ..", value), "give a path below the cgroup root");
        }
        if (name.empty() || name == "/" || name == ".") {
            continue;
        }
        out += (out.empty() ? "" : "/") + name;
    }
    // Absolute: below each hierarchy's root; relative: below the runtime's
    // own cgroup there (runc's reading).
    return !out.empty() && value.front() == '/' ? "/" + out : out;
}

/// A sysctl must belong to a namespace the container has its own of, or
/// writing it would change the host (runc's rule).
void check_sysctl(const std::string& key, const Linux& linux, const std::string& path) {
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") !=
                           std::string::npos ||
        key.front() == '.' || key.front() == '/' || key.find("..") != std::string::npos) {
        refuse(path, "is not a sysctl name", "give a name like net.ipv4.ip_forward");
    }
    static const std::set<std::string> ipc = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                              "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                                              "kernel.shm_rmid_forced"};
    const auto needs = [&](const char* type, const char* what) {
        if (!linux.has(type)) {
            refuse(path, fmt::format("belongs to the {} namespace, and the container shares the host's", what),
                   fmt::format("add {{\"type\": \"{}\"}} to linux.namespaces, or remove the sysctl", type));
        }
    };
    if (ipc.contains(key) || key.starts_with("fs.mqueue.")) {
        needs("ipc", "IPC");
    } else if (key.starts_with("net.")) {
        needs("network", "network");
    } else if (key == "kernel.hostname" || key == "kernel.domainname") {
        needs("uts", "UTS");
    } else {
        refuse(path, "is not namespaced: writing it would change the host",
               "only IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*), net.* and kernel.hostname sysctls are "
               "per container");
    }
}

const std::set<std::string>& seccomp_actions() {
    static const std::set<std::string> actions = {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO",        "SCMP_ACT_KILL",
                                                  "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
                                                  "SCMP_ACT_TRACE", "SCMP_ACT_LOG"};
    return actions;
}

const std::vector<std::string>& seccomp_operators() {
    static const std::vector<std::string> ops = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                                 "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
    return ops;
}

std::string seccomp_action(const json& j, const std::string& path) {
    const std::string action = as_string(j, path);
    if (action == "SCMP_ACT_NOTIFY") {
        refuse(path, "SCMP_ACT_NOTIFY needs a seccomp agent (listenerPath), which nsrun does not support",
               "use SCMP_ACT_ERRNO or SCMP_ACT_ALLOW");
    }
    if (!seccomp_actions().contains(action)) {
        refuse(path, fmt::format("\"{}\" is not a seccomp action", action), "see `nsrun features` (linux.seccomp.actions)");
    }
    return action;
}

SeccompSyscall parse_seccomp_rule(const json& r, const std::string& at) {
    as_object(r, at);
    SeccompSyscall rule;
    rule.names = as_strings(required(r, "names", at), child(at, "names"));
    if (rule.names.empty()) {
        refuse(child(at, "names"), "is empty", "name at least one system call");
    }
    rule.action = seccomp_action(required(r, "action", at), child(at, "action"));
    if (const json* e = member(r, "errnoRet")) rule.errno_ret = as_u32(*e, child(at, "errnoRet"));
    if (const json* args = member(r, "args")) {
        std::size_t k = 0;
        for (const auto& a : as_array(*args, child(at, "args"))) {
            const std::string arg = item(child(at, "args"), k++);
            as_object(a, arg);
            SeccompArg cond;
            cond.index = as_u32(required(a, "index", arg), child(arg, "index"));
            if (cond.index > 5) {
                refuse(child(arg, "index"), fmt::format("{} is not an argument index", cond.index),
                       "a system call has arguments 0 to 5");
            }
            cond.value = as_u64(required(a, "value", arg), child(arg, "value"));
            if (const json* two = member(a, "valueTwo")) cond.value_two = as_u64(*two, child(arg, "valueTwo"));
            cond.op = as_string(required(a, "op", arg), child(arg, "op"));
            if (std::find(seccomp_operators().begin(), seccomp_operators().end(), cond.op) == seccomp_operators().end()) {
                refuse(child(arg, "op"), fmt::format("\"{}\" is not a seccomp operator", cond.op),
                       "see `nsrun features` (linux.seccomp.operators)");
            }
            rule.args.push_back(std::move(cond));
        }
    }
    return rule;
}

Seccomp parse_seccomp(const json& j, const std::string& path) {
    as_object(j, path);
    Seccomp s;
    s.default_action = seccomp_action(required(j, "defaultAction", path), child(path, "defaultAction"));
    if (const json* e = member(j, "defaultErrnoRet")) s.default_errno_ret = as_u32(*e, child(path, "defaultErrnoRet"));
    if (const json* a = member(j, "architectures")) s.architectures = as_strings(*a, child(path, "architectures"));
    refuse_if_set(j, "flags", path, "seccomp filter flags are not supported", "remove them");
    refuse_if_set(j, "listenerPath", path, "seccomp agents (SCMP_ACT_NOTIFY) are not supported", "remove it");
    refuse_if_set(j, "listenerMetadata", path, "seccomp agents (SCMP_ACT_NOTIFY) are not supported", "remove it");
    if (const json* rules = member(j, "syscalls")) {
        std::size_t i = 0;
        for (const auto& r : as_array(*rules, child(path, "syscalls"))) {
            s.syscalls.push_back(parse_seccomp_rule(r, item(child(path, "syscalls"), i++)));
        }
    }
    // libseccomp has the last word (unknown system call or architecture
    // names): compile it once now, so create fails before anything is made.
    try {
        (void)SeccompFilter(s, true);
    } catch (const nsrun::Error& e) {
        refuse(path, e.what(), e.hint());
    }
    return s;
}

const std::set<std::string>& propagations() {
    static const std::set<std::string> values = {"",      "private",  "rprivate",   "slave",      "rslave",
                                                 "shared", "rshared", "unbindable", "runbindable"};
    return values;
}

void parse_personality(const json& j, const std::string& path) {
    as_object(j, path);
    const std::string domain = as_string(required(j, "domain", path), child(path, "domain"));
    if (domain == "LINUX32") {
        refuse(child(path, "domain"), "LINUX32 (a 32-bit uname) is not supported", "remove linux.personality");
    }
    if (domain != "LINUX") {
        refuse(child(path, "domain"), fmt::format("\"{}\" is not a personality domain", domain),
               "the domains are LINUX and LINUX32");
    }
    refuse_if_set(j, "flags", path, "personality flags are not supported", "remove them");
}

Linux parse_linux(const json& l, const std::string& path) {
    as_object(l, path);
    Linux linux;
    if (const json* ns = member(l, "namespaces")) linux.namespaces = parse_namespaces(*ns, child(path, "namespaces"));
    if (const json* m = member(l, "uidMappings")) linux.uid_mappings = parse_mappings(*m, child(path, "uidMappings"));
    if (const json* m = member(l, "gidMappings")) linux.gid_mappings = parse_mappings(*m, child(path, "gidMappings"));
    check_user_namespace(linux, l);
    if (const json* r = member(l, "resources")) linux.resources = parse_resources(*r, child(path, "resources"));
    if (const json* c = member(l, "cgroupsPath")) linux.cgroups_path = parse_cgroups_path(*c, child(path, "cgroupsPath"));
    if (const json* d = member(l, "devices")) linux.devices = parse_device_nodes(*d, child(path, "devices"));
    if (const json* s = member(l, "sysctl")) {
        for (const auto& [key, value] : as_object(*s, child(path, "sysctl")).items()) {
            const std::string at = fmt::format("{}[\"{}\"]", child(path, "sysctl"), key);
            check_sysctl(key, linux, at);
            linux.sysctl[key] = as_string(value, at);
        }
    }
    if (const json* s = member(l, "seccomp")) linux.seccomp = parse_seccomp(*s, child(path, "seccomp"));
    if (const json* m = member(l, "maskedPaths")) {
        linux.masked_paths = as_strings(*m, child(path, "maskedPaths"));
        for (std::size_t i = 0; i < linux.masked_paths.size(); ++i) {
            (void)absolute_path(linux.masked_paths[i], item(child(path, "maskedPaths"), i));
        }
    }
    if (const json* r = member(l, "readonlyPaths")) {
        linux.readonly_paths = as_strings(*r, child(path, "readonlyPaths"));
        for (std::size_t i = 0; i < linux.readonly_paths.size(); ++i) {
            (void)absolute_path(linux.readonly_paths[i], item(child(path, "readonlyPaths"), i));
        }
    }
    if (const json* p = member(l, "rootfsPropagation")) {
        linux.rootfs_propagation = as_string(*p, child(path, "rootfsPropagation"));
        if (!propagations().contains(linux.rootfs_propagation)) {
            refuse(child(path, "rootfsPropagation"), fmt::format("\"{}\" is not a propagation", linux.rootfs_propagation),
                   "give private, rprivate, slave, rslave, shared, rshared, unbindable or runbindable");
        }
    }
    if (const json* p = member(l, "personality")) parse_personality(*p, child(path, "personality"));
    if (member(l, "intelRdt")) {
        refuse(child(path, "intelRdt"), "Intel RDT (resctrl) is not supported", "remove linux.intelRdt");
    }
    refuse_if_set(l, "timeOffsets", path, "time namespaces are not supported", "remove it");
    refuse_if_set(l, "mountLabel", path, "nsrun sets no SELinux mount label",
                  "remove it (podman: --security-opt label=disable)");
    refuse_if_set(l, "memoryPolicy", path, "NUMA memory policies are not supported", "remove it");
    refuse_if_set(l, "netDevices", path, "moving network devices into the container is not supported", "remove it");
    return linux;
}

// --- hooks, the rest -----------------------------------------------------------------------

std::vector<Hook> parse_hook_list(const json& j, const std::string& path) {
    std::vector<Hook> hooks;
    std::size_t i = 0;
    for (const auto& h : as_array(j, path)) {
        const std::string at = item(path, i++);
        as_object(h, at);
        Hook hook;
        hook.path = absolute_path(required(h, "path", at), child(at, "path"));
        if (const json* args = member(h, "args")) hook.args = as_strings(*args, child(at, "args"));
        if (const json* env = member(h, "env")) {
            hook.env = as_strings(*env, child(at, "env"));
            check_env(hook.env, child(at, "env"));
        }
        if (const json* t = member(h, "timeout")) {
            const std::int64_t timeout = as_i64(*t, child(at, "timeout"));
            if (timeout <= 0 || timeout > INT32_MAX) {
                refuse(child(at, "timeout"), fmt::format("{} is not a timeout", timeout), "give seconds, at least 1");
            }
            hook.timeout = static_cast<int>(timeout);
        }
        hooks.push_back(std::move(hook));
    }
    return hooks;
}

Hooks parse_hooks(const json& j, const std::string& path) {
    as_object(j, path);
    Hooks hooks;
    const std::vector<std::pair<std::string, std::vector<Hook> Hooks::*>> lists = {
        {"prestart", &Hooks::prestart},           {"createRuntime", &Hooks::createRuntime},
        {"createContainer", &Hooks::createContainer}, {"startContainer", &Hooks::startContainer},
        {"poststart", &Hooks::poststart},         {"poststop", &Hooks::poststop}};
    for (const auto& [name, list] : j.items()) {
        const auto it = std::find_if(lists.begin(), lists.end(), [&](const auto& l) { return l.first == name; });
        // A hook nsrun would not run is a program the caller expects to run:
        // refused, not ignored like other unknown properties.
        if (it == lists.end()) {
            refuse(child(path, name), "is not a hook nsrun runs",
                   "the hooks are prestart, createRuntime, createContainer, startContainer, poststart, poststop");
        }
        if (!list.is_null()) {
            hooks.*(it->second) = parse_hook_list(list, child(path, name));
        }
    }
    return hooks;
}

void check_oci_version(const json& j) {
    const std::string version = as_string(j, "ociVersion");
    if (!version.starts_with("1.")) {
        refuse("ociVersion", fmt::format("\"{}\" is not a version 1 config", version),
               "nsrun reads the OCI runtime spec 1.x (1.0.0 to 1.2)");
    }
}

/// The hostname needs a UTS namespace of the container's own: setting it in
/// a shared or joined one would rename someone else's machine.
void check_hostname(const ContainerSpec& spec) {
    if (spec.hostname.empty()) {
        return;
    }
    const Namespace* uts = spec.linux.find("uts");
    if (!uts || !uts->path.empty()) {
        refuse("hostname", "needs a new UTS namespace", "add {\"type\": \"uts\"} to linux.namespaces, or remove hostname");
    }
    if (const std::string problem = hostname_problem(spec.hostname); !problem.empty()) {
        refuse("hostname", problem, "give 1 to 64 characters");
    }
}

/// nsrun's own choices for a bundle: the network is what the namespaces
/// say (no veth: the caller made the network namespace, or it has only
/// loopback), and nothing docker-style (names, -d, --rm) applies.
void fill_extensions(ContainerSpec& spec, const std::filesystem::path& bundle) {
    spec.nsrun.network = spec.linux.has("network") ? NetworkMode::none : NetworkMode::host;
    spec.nsrun.ipc_host = !spec.linux.has("ipc");
    spec.nsrun.rootless = ::geteuid() != 0;
    spec.nsrun.auto_remove = false;
    spec.nsrun.bundle = bundle.string();
}

} // namespace

ContainerSpec spec_from_oci_config(const json& config, const std::filesystem::path& bundle_dir) {
    as_object(config, "(top level)");
    const std::filesystem::path bundle = std::filesystem::absolute(bundle_dir).lexically_normal();
    ContainerSpec spec;
    check_oci_version(required(config, "ociVersion", ""));
    spec.oci_version = config.at("ociVersion").get<std::string>();
    for (const char* other : {"solaris", "windows", "vm", "zos"}) {
        refuse_if_set(config, other, "", fmt::format("is for {} containers; nsrun runs Linux containers", other),
                      fmt::format("remove \"{}\"", other));
    }
    spec.process = parse_process(required(config, "process", ""), "process");
    const json& root = as_object(required(config, "root", ""), "root");
    const std::string root_path = as_string(required(root, "path", "root"), "root.path");
    if (root_path.empty()) {
        refuse("root.path", "is empty", "give the root filesystem's directory, usually \"rootfs\"");
    }
    spec.root.path = in_bundle(bundle, root_path);
    if (const json* ro = member(root, "readonly")) spec.root.readonly = as_bool(*ro, "root.readonly");
    spec.hostname = member(config, "hostname") ? as_string(config.at("hostname"), "hostname") : "";
    refuse_if_set(config, "domainname", "", "setting the NIS domain name is not supported", "remove domainname");
    if (const json* mounts = member(config, "mounts")) {
        std::size_t i = 0;
        for (const auto& m : as_array(*mounts, "mounts")) {
            spec.mounts.push_back(parse_mount(m, item("mounts", i++), bundle));
        }
    }
    if (const json* hooks = member(config, "hooks")) spec.hooks = parse_hooks(*hooks, "hooks");
    if (const json* annotations = member(config, "annotations")) {
        for (const auto& [key, value] : as_object(*annotations, "annotations").items()) {
            spec.annotations[key] = as_string(value, fmt::format("annotations[\"{}\"]", key));
        }
    }
    spec.linux = parse_linux(required(config, "linux", ""), "linux");
    if (!spec.linux.has("mount")) {
        refuse("linux.namespaces", "has no mount namespace; nsrun needs one to give the container its own root",
               "add {\"type\": \"mount\"}");
    }
    check_hostname(spec);
    fill_extensions(spec, bundle);
    return spec;
}

ContainerSpec spec_from_bundle(const std::filesystem::path& bundle) {
    const std::filesystem::path file = bundle / "config.json";
    std::ifstream in(file);
    if (!in) {
        throw nsrun::Error{fmt::format("cannot read {}: {}", file.string(), nsrun::errno_text(errno)),
                           "give the bundle directory (--bundle DIR) that holds config.json; `nsrun spec` writes one"};
    }
    json config;
    try {
        config = json::parse(in);
    } catch (const json::parse_error& e) {
        throw nsrun::Error{fmt::format("{}: not valid JSON: {}", file.string(), e.what()),
                           "check the file with jq . config.json"};
    }
    return spec_from_oci_config(config, bundle);
}

// --- nsrun spec, nsrun features ------------------------------------------------------------------

namespace {

json default_mounts(bool rootless) {
    json mounts = json::array();
    mounts.push_back({{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}});
    mounts.push_back({{"destination", "/dev"},
                      {"type", "tmpfs"},
                      {"source", "tmpfs"},
                      {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}});
    json pts_options = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
    if (!rootless) {
        pts_options.push_back("gid=5"); // tty; not mapped in a rootless user namespace
    }
    mounts.push_back({{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"}, {"options", pts_options}});
    mounts.push_back({{"destination", "/dev/shm"},
                      {"type", "tmpfs"},
                      {"source", "shm"},
                      {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}});
    mounts.push_back({{"destination", "/dev/mqueue"},
                      {"type", "mqueue"},
                      {"source", "mqueue"},
                      {"options", {"nosuid", "noexec", "nodev"}}});
    if (rootless) {
        // A user namespace may not mount sysfs for a network namespace it
        // does not own: bind the host's, read-only.
        mounts.push_back({{"destination", "/sys"},
                          {"type", "none"},
                          {"source", "/sys"},
                          {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
    } else {
        mounts.push_back({{"destination", "/sys"},
                          {"type", "sysfs"},
                          {"source", "sysfs"},
                          {"options", {"nosuid", "noexec", "nodev", "ro"}}});
    }
    mounts.push_back({{"destination", "/sys/fs/cgroup"},
                      {"type", "cgroup"},
                      {"source", "cgroup"},
                      {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
    return mounts;
}

} // namespace

json default_oci_config(bool rootless) {
    const Capabilities caps = capabilities_for(default_capabilities(), User{});
    json namespaces = json::array();
    for (const char* type : {"pid", "network", "ipc", "uts", "mount"}) {
        namespaces.push_back({{"type", type}});
    }
    json linux = {{"namespaces", namespaces},
                  {"maskedPaths", default_masked_paths()},
                  {"readonlyPaths", default_readonly_paths()}};
    if (rootless) {
        linux["namespaces"].push_back({{"type", "user"}});
        linux["uidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}});
        linux["gidMappings"] = json::array({{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}});
    } else {
        linux["resources"] = {{"devices", json::array({{{"allow", false}, {"access", "rwm"}}})}};
    }
    return {
        {"ociVersion", "1.0.2"},
        {"process",
         {{"terminal", true},
          {"user", {{"uid", 0}, {"gid", 0}}},
          {"args", {"sh"}},
          {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
          {"cwd", "/"},
          {"capabilities",
           {{"bounding", caps.bounding}, {"effective", caps.effective}, {"permitted", caps.permitted}}},
          {"rlimits", json::array({{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}})},
          {"noNewPrivileges", true}}},
        {"root", {{"path", "rootfs"}, {"readonly", true}}},
        {"hostname", "nsrun"},
        {"mounts", default_mounts(rootless)},
        {"linux", linux},
    };
}

json oci_features() {
    std::vector<std::string> archs;
    for (const char* arch : {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
                             "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
                             "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
                             "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64"}) {
        std::string lower = std::string(arch).substr(10);
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (::seccomp_arch_resolve_name(lower.c_str()) != 0) { // this libseccomp knows it
            archs.emplace_back(arch);
        }
    }
    const std::vector<std::string> actions(seccomp_actions().begin(), seccomp_actions().end());
    return {
        {"ociVersionMin", "1.0.0"},
        {"ociVersionMax", "1.2.0"},
        {"hooks", {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
        {"mountOptions", flag_options()},
        {"linux",
         {{"namespaces", namespace_types()},
          {"capabilities", all_capabilities()},
          {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
          {"seccomp", {{"enabled", true}, {"actions", actions}, {"operators", seccomp_operators()}, {"archs", archs}}},
          {"apparmor", {{"enabled", false}}},
          {"selinux", {{"enabled", false}}}}},
        {"annotations", {{"org.nsrun.version", NSRUN_VERSION}}},
    };
}
