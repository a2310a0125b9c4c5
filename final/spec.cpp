// ContainerSpec ⇄ JSON, with config.json's key names (camelCase, as the OCI
// runtime spec spells them) and nsrun's extensions under "org.nsrun".
#include "spec.hpp"
#include "seccomp.hpp"

#include <nsrun/error.hpp>
#include <nsrun/netlink.hpp>

#include <algorithm>
#include <map>
#include <sched.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace {

/// OCI namespace type → clone(2) flag.
const std::map<std::string, int>& namespace_flags() {
    static const std::map<std::string, int> flags = {
        {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},   {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},   {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP},
    };
    return flags;
}

const std::map<NetworkMode, std::string>& network_names() {
    static const std::map<NetworkMode, std::string> names = {
        {NetworkMode::none, "none"},     {NetworkMode::host, "host"},          {NetworkMode::veth, "veth"},
        {NetworkMode::bridge, "bridge"}, {NetworkMode::container, "container"},
    };
    return names;
}

std::uint16_t parse_port(const std::string& text, const std::string& whole) {
    if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(text) == 0 || std::stoul(text) > 65535) {
        throw nsrun::Error{fmt::format("-p {}: ports are 1-65535", whole),
                           "the form is [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp], e.g. 8080:80"};
    }
    return static_cast<std::uint16_t>(std::stoul(text));
}

template <typename T>
void get_optional(const json& j, const char* key, std::optional<T>& out) {
    if (j.contains(key) && !j.at(key).is_null()) {
        out = j.at(key).get<T>();
    }
}

} // namespace

bool Mount::readonly() const { return std::find(options.begin(), options.end(), "ro") != options.end(); }

const Namespace* Linux::find(const std::string& type) const {
    const auto it = std::find_if(namespaces.begin(), namespaces.end(), [&](const Namespace& n) { return n.type == type; });
    return it == namespaces.end() ? nullptr : &*it;
}

int ContainerSpec::clone_flags() const {
    int flags = 0;
    for (const auto& ns : linux.namespaces) {
        if (ns.path.empty() && ns.type != "cgroup") {
            flags |= namespace_flags().at(ns.type);
        }
    }
    return flags;
}

Publish Publish::parse(const std::string& text) {
    Publish p;
    std::string rest = text;
    if (const auto slash = rest.rfind('/'); slash != std::string::npos) {
        p.protocol = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (p.protocol != "tcp" && p.protocol != "udp") {
            throw nsrun::Error{fmt::format("-p {}: the protocol is tcp or udp", text)};
        }
    }
    const auto last = rest.rfind(':');
    if (last == std::string::npos) {
        throw nsrun::Error{fmt::format("-p {}: give [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|/udp]", text),
                           "e.g. -p 8080:80"};
    }
    p.container_port = parse_port(rest.substr(last + 1), text);
    rest = rest.substr(0, last);
    if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
        p.host_ip = rest.substr(0, colon);
        rest = rest.substr(colon + 1);
        nsrun::netlink::parse_ipv4(p.host_ip); // throws on garbage
    }
    p.host_port = parse_port(rest, text);
    return p;
}

std::string Publish::str() const {
    return fmt::format("{}{}->{}/{}", host_ip.empty() ? "" : host_ip + ":", host_port, container_port, protocol);
}

std::string to_string(NetworkMode mode) { return network_names().at(mode); }

// --- JSON -------------------------------------------------------------------

namespace {

json ranges_to_json(const std::vector<IdRange>& ranges) {
    json a = json::array();
    for (const auto& r : ranges) {
        a.push_back({{"containerID", r.inside}, {"hostID", r.outside}, {"size", r.count}});
    }
    return a;
}

std::vector<IdRange> ranges_from_json(const json& a) {
    std::vector<IdRange> ranges;
    for (const auto& r : a) {
        ranges.push_back({r.at("containerID").get<std::uint32_t>(), r.at("hostID").get<std::uint32_t>(),
                          r.at("size").get<std::uint32_t>()});
    }
    return ranges;
}

/// The member that stands for nsrun's default profile in a spec's json:
/// the capabilities it was made for (not part of OCI's linux.seccomp).
constexpr const char* default_profile_member = "defaultProfileFor";

json seccomp_to_json(const std::optional<Seccomp>& seccomp) {
    if (!seccomp) {
        return nullptr; // unconfined
    }
    if (seccomp->default_for) {
        // Rebuilt from the capabilities when read: two thirds of a record's
        // text, and of the CPU time its first save took, were these names.
        return json{{default_profile_member, *seccomp->default_for}};
    }
    // Built by moving each part into place: a json initializer list copies
    // what it holds, and docker's profile is hundreds of names, converted on
    // every container start (the record holds the spec).
    json syscalls = json::array();
    for (const auto& rule : seccomp->syscalls) {
        json r = json::object();
        r["names"] = rule.names;
        r["action"] = rule.action;
        if (rule.errno_ret) {
            r["errnoRet"] = *rule.errno_ret;
        }
        if (!rule.args.empty()) {
            json& args = r["args"] = json::array();
            for (const auto& a : rule.args) {
                args.push_back({{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
            }
        }
        syscalls.push_back(std::move(r));
    }
    json j = json::object();
    j["defaultAction"] = seccomp->default_action;
    j["architectures"] = seccomp->architectures;
    j["syscalls"] = std::move(syscalls);
    if (seccomp->default_errno_ret) {
        j["defaultErrnoRet"] = *seccomp->default_errno_ret;
    }
    return j;
}

std::optional<Seccomp> seccomp_from_json(const json& j) {
    if (j.is_null()) {
        return std::nullopt;
    }
    if (j.contains(default_profile_member)) {
        return default_seccomp_profile(j.at(default_profile_member).get<std::vector<std::string>>());
    }
    Seccomp s;
    s.default_action = j.at("defaultAction").get<std::string>();
    if (j.contains("defaultErrnoRet")) {
        s.default_errno_ret = j.at("defaultErrnoRet").get<unsigned>();
    }
    s.architectures = j.value("architectures", std::vector<std::string>{});
    for (const auto& r : j.value("syscalls", json::array())) {
        SeccompSyscall rule{r.at("names").get<std::vector<std::string>>(), r.at("action").get<std::string>(),
                            std::nullopt, {}};
        if (r.contains("errnoRet")) {
            rule.errno_ret = r.at("errnoRet").get<unsigned>();
        }
        for (const auto& a : r.value("args", json::array())) {
            rule.args.push_back({a.at("index").get<unsigned>(), a.at("value").get<std::uint64_t>(),
                                 a.value("valueTwo", std::uint64_t{0}), a.at("op").get<std::string>()});
        }
        s.syscalls.push_back(std::move(rule));
    }
    return s;
}

json devices_to_json(const std::vector<DeviceRule>& rules) {
    json a = json::array();
    for (const auto& d : rules) {
        json r = {{"allow", d.allow}, {"type", d.type}, {"access", d.access}};
        if (d.major) r["major"] = *d.major;
        if (d.minor) r["minor"] = *d.minor;
        a.push_back(r);
    }
    return a;
}

std::vector<DeviceRule> devices_from_json(const json& a) {
    std::vector<DeviceRule> rules;
    for (const auto& r : a) {
        DeviceRule d;
        d.allow = r.at("allow").get<bool>();
        d.type = r.value("type", std::string{"a"});
        get_optional(r, "major", d.major);
        get_optional(r, "minor", d.minor);
        d.access = r.value("access", std::string{"rwm"});
        rules.push_back(std::move(d));
    }
    return rules;
}

json nodes_to_json(const std::vector<DeviceNode>& nodes) {
    json a = json::array();
    for (const auto& n : nodes) {
        json d = {{"path", n.path}, {"type", n.type}, {"major", n.major}, {"minor", n.minor}};
        if (n.file_mode) d["fileMode"] = *n.file_mode;
        if (n.uid) d["uid"] = *n.uid;
        if (n.gid) d["gid"] = *n.gid;
        if (!n.host_path.empty()) d["org.nsrun.hostPath"] = n.host_path;
        a.push_back(d);
    }
    return a;
}

std::vector<DeviceNode> nodes_from_json(const json& a) {
    std::vector<DeviceNode> nodes;
    for (const auto& d : a) {
        DeviceNode n;
        n.path = d.at("path").get<std::string>();
        n.type = d.at("type").get<std::string>();
        n.major = d.value("major", std::int64_t{0});
        n.minor = d.value("minor", std::int64_t{0});
        get_optional(d, "fileMode", n.file_mode);
        get_optional(d, "uid", n.uid);
        get_optional(d, "gid", n.gid);
        n.host_path = d.value("org.nsrun.hostPath", std::string{});
        nodes.push_back(std::move(n));
    }
    return nodes;
}

json rlimits_to_json(const std::vector<Rlimit>& rlimits) {
    json a = json::array();
    for (const auto& r : rlimits) {
        a.push_back({{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}});
    }
    return a;
}

std::vector<Rlimit> rlimits_from_json(const json& a) {
    std::vector<Rlimit> rlimits;
    for (const auto& r : a) {
        rlimits.push_back({r.at("type").get<std::string>(), r.at("hard").get<std::uint64_t>(),
                           r.at("soft").get<std::uint64_t>()});
    }
    return rlimits;
}

json hook_list_to_json(const std::vector<Hook>& hooks) {
    json a = json::array();
    for (const auto& h : hooks) {
        json j = {{"path", h.path}};
        if (!h.args.empty()) j["args"] = h.args;
        if (!h.env.empty()) j["env"] = h.env;
        if (h.timeout) j["timeout"] = *h.timeout;
        a.push_back(j);
    }
    return a;
}

std::vector<Hook> hook_list_from_json(const json& a) {
    std::vector<Hook> hooks;
    for (const auto& j : a) {
        Hook h;
        h.path = j.at("path").get<std::string>();
        h.args = j.value("args", std::vector<std::string>{});
        h.env = j.value("env", std::vector<std::string>{});
        get_optional(j, "timeout", h.timeout);
        hooks.push_back(std::move(h));
    }
    return hooks;
}

/// The six lists by their config.json names (one table for both directions).
std::vector<std::pair<const char*, std::vector<Hook> Hooks::*>> hook_lists() {
    return {{"prestart", &Hooks::prestart},           {"createRuntime", &Hooks::createRuntime},
            {"createContainer", &Hooks::createContainer}, {"startContainer", &Hooks::startContainer},
            {"poststart", &Hooks::poststart},         {"poststop", &Hooks::poststop}};
}

json hooks_to_json(const Hooks& hooks) {
    json j = json::object();
    for (const auto& [name, list] : hook_lists()) {
        if (!(hooks.*list).empty()) {
            j[name] = hook_list_to_json(hooks.*list);
        }
    }
    return j;
}

Hooks hooks_from_json(const json& j) {
    Hooks hooks;
    for (const auto& [name, list] : hook_lists()) {
        hooks.*list = hook_list_from_json(j.value(name, json::array()));
    }
    return hooks;
}

NetworkMode network_from_string(const std::string& name) {
    for (const auto& [mode, text] : network_names()) {
        if (text == name) {
            return mode;
        }
    }
    throw nsrun::Error{fmt::format("unknown network mode '{}' in the spec", name)};
}

} // namespace

namespace {

/// The string spec_text() puts in linux.seccomp's place in the tree, and
/// then replaces in the text with the profile written directly.
constexpr std::string_view seccomp_marker = "\x01nsrun:seccomp\x01";

void fill_spec_json(json& j, const ContainerSpec& s, bool seccomp_placeholder_only);

/// Whether spec_text() writes this profile itself: a whole one, not none
/// and not the default one's few names (seccomp_to_json).
bool written_directly(const std::optional<Seccomp>& seccomp) { return seccomp && !seccomp->default_for; }

} // namespace

void to_json(json& j, const ContainerSpec& s) { fill_spec_json(j, s, false); }

namespace {

void fill_spec_json(json& j, const ContainerSpec& s, bool seccomp_placeholder_only) {
    json mounts = json::array();
    for (const auto& m : s.mounts) {
        mounts.push_back({{"destination", m.destination}, {"type", m.type}, {"source", m.source}, {"options", m.options}});
    }
    json namespaces = json::array();
    for (const auto& n : s.linux.namespaces) {
        json ns = {{"type", n.type}};
        if (!n.path.empty()) {
            ns["path"] = n.path;
        }
        namespaces.push_back(ns);
    }
    json resources = json::object();
    if (s.linux.resources.memory) resources["memory"]["limit"] = *s.linux.resources.memory;
    if (s.linux.resources.memory_swap) resources["memory"]["swap"] = *s.linux.resources.memory_swap;
    if (s.linux.resources.cpus) resources["cpu"]["cpus"] = *s.linux.resources.cpus;
    if (s.linux.resources.cpu_weight) resources["cpu"]["weight"] = *s.linux.resources.cpu_weight;
    if (s.linux.resources.pids_limit) resources["pids"] = {{"limit", *s.linux.resources.pids_limit}};
    if (!s.linux.resources.devices.empty()) resources["devices"] = devices_to_json(s.linux.resources.devices);
    json user = {{"uid", s.process.user.uid}, {"gid", s.process.user.gid}};
    if (!s.process.user.additional_gids.empty()) user["additionalGids"] = s.process.user.additional_gids;
    if (s.process.user.umask) user["umask"] = *s.process.user.umask;
    json publish = json::array();
    for (const auto& p : s.nsrun.publish) {
        publish.push_back({{"hostIP", p.host_ip}, {"hostPort", p.host_port}, {"containerPort", p.container_port},
                           {"protocol", p.protocol}});
    }
    j = {
        {"ociVersion", s.oci_version},
        {"process",
         {{"terminal", s.process.terminal},
          {"user", user},
          {"capabilities",
           {{"bounding", s.process.capabilities.bounding},
            {"effective", s.process.capabilities.effective},
            {"inheritable", s.process.capabilities.inheritable},
            {"permitted", s.process.capabilities.permitted},
            {"ambient", s.process.capabilities.ambient}}},
          {"noNewPrivileges", s.process.no_new_privileges},
          {"args", s.process.args},
          {"env", s.process.env},
          {"cwd", s.process.cwd}}},
        {"root", {{"path", s.root.path}, {"readonly", s.root.readonly}}},
        {"hostname", s.hostname},
        {"mounts", mounts},
        {"linux",
         {{"namespaces", namespaces},
          {"uidMappings", ranges_to_json(s.linux.uid_mappings)},
          {"gidMappings", ranges_to_json(s.linux.gid_mappings)},
          {"resources", resources},
          {"cgroupsPath", s.linux.cgroups_path},
          {"maskedPaths", s.linux.masked_paths},
          {"readonlyPaths", s.linux.readonly_paths},
          {"seccomp", nullptr}, // moved in below: the largest member, not copied
          {"sysctl", s.linux.sysctl},
          {"rootfsPropagation", s.linux.rootfs_propagation},
          {"devices", nodes_to_json(s.linux.devices)}}},
        {"hooks", hooks_to_json(s.hooks)},
        {"annotations", s.annotations},
        {"org.nsrun",
         {{"name", s.nsrun.name},
          {"network", to_string(s.nsrun.network)},
          {"networkContainer", s.nsrun.network_container},
          {"ipcContainer", s.nsrun.ipc_container},
          {"ipcHost", s.nsrun.ipc_host},
          {"bridge", s.nsrun.bridge},
          {"subnet", s.nsrun.subnet},
          {"stateDir", s.nsrun.state_dir},
          {"publish", publish},
          {"rootless", s.nsrun.rootless},
          {"detach", s.nsrun.detach},
          {"autoRemove", s.nsrun.auto_remove},
          {"interactive", s.nsrun.interactive},
          {"init", s.nsrun.init},
          {"stopTimeout", s.nsrun.stop_timeout},
          {"privileged", s.nsrun.privileged},
          {"image", s.nsrun.image},
          {"imageId", s.nsrun.image_id},
          {"imageLayers", s.nsrun.image_layers},
          {"bundle", s.nsrun.bundle}}},
    };
    j["linux"]["seccomp"] =
        seccomp_placeholder_only && written_directly(s.linux.seccomp) ? json(seccomp_marker) : seccomp_to_json(s.linux.seccomp);
    json& process = j["process"];
    if (!s.process.rlimits.empty()) process["rlimits"] = rlimits_to_json(s.process.rlimits);
    if (s.process.oom_score_adj) process["oomScoreAdj"] = *s.process.oom_score_adj;
    if (s.process.console_size) {
        process["consoleSize"] = {{"height", s.process.console_size->height}, {"width", s.process.console_size->width}};
    }
}

// --- the seccomp profile as text, written directly ----------------------------
// Byte for byte what json(spec).dump(2) makes of it (keys in std::map order,
// two spaces per level), without a json tree of docker's ~350 syscall names:
// building and dumping that tree was the largest part of a start's user time.

void append_indent(std::string& out, std::size_t indent) { out.append(indent, ' '); }

void append_string(std::string& out, const std::string& value) {
    const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (plain) {
        out.append(1, '"').append(value).append(1, '"');
    } else {
        out += json(value).dump(); // escaping and UTF-8 checks exactly as the tree's
    }
}

/// An array whose `[` is where the value starts and whose `]` is at
/// `indent`: `[]` when empty, else one item a line, each written by
/// `append_item(out, item, item_indent)`.
template <typename Item, typename AppendItem>
void append_array(std::string& out, const std::vector<Item>& items, std::size_t indent, AppendItem append_item) {
    if (items.empty()) {
        out += "[]";
        return;
    }
    out += "[\n";
    for (std::size_t i = 0; i < items.size(); ++i) {
        append_indent(out, indent + 2);
        append_item(out, items[i], indent + 2);
        out += i + 1 < items.size() ? ",\n" : "\n";
    }
    append_indent(out, indent);
    out += ']';
}

void append_strings(std::string& out, const std::vector<std::string>& values, std::size_t indent) {
    append_array(out, values, indent, [](std::string& o, const std::string& v, std::size_t) { append_string(o, v); });
}

/// One member `"key": ` at `indent`, after the previous one's ",\n" if any.
void open_member(std::string& out, bool& first, std::size_t indent, std::string_view key) {
    out += first ? "{\n" : ",\n";
    first = false;
    append_indent(out, indent + 2);
    out.append(1, '"').append(key).append("\": ");
}

void close_object(std::string& out, bool first, std::size_t indent) {
    if (first) {
        out += "{}";
        return;
    }
    out += '\n';
    append_indent(out, indent);
    out += '}';
}

void append_seccomp_arg(std::string& out, const SeccompArg& a, std::size_t indent) {
    bool first = true;
    open_member(out, first, indent, "index");
    out += std::to_string(a.index);
    open_member(out, first, indent, "op");
    append_string(out, a.op);
    open_member(out, first, indent, "value");
    out += std::to_string(a.value);
    open_member(out, first, indent, "valueTwo");
    out += std::to_string(a.value_two);
    close_object(out, first, indent);
}

void append_seccomp_rule(std::string& out, const SeccompSyscall& rule, std::size_t indent) {
    bool first = true;
    open_member(out, first, indent, "action");
    append_string(out, rule.action);
    if (!rule.args.empty()) {
        open_member(out, first, indent, "args");
        append_array(out, rule.args, indent + 2, append_seccomp_arg);
    }
    if (rule.errno_ret) {
        open_member(out, first, indent, "errnoRet");
        out += std::to_string(*rule.errno_ret);
    }
    open_member(out, first, indent, "names");
    append_strings(out, rule.names, indent + 2);
    close_object(out, first, indent);
}

/// The profile's object, its `{` where the value starts and its `}` at `indent`.
void append_seccomp(std::string& out, const Seccomp& profile, std::size_t indent) {
    bool first = true;
    open_member(out, first, indent, "architectures");
    append_strings(out, profile.architectures, indent + 2);
    open_member(out, first, indent, "defaultAction");
    append_string(out, profile.default_action);
    if (profile.default_errno_ret) {
        open_member(out, first, indent, "defaultErrnoRet");
        out += std::to_string(*profile.default_errno_ret);
    }
    open_member(out, first, indent, "syscalls");
    append_array(out, profile.syscalls, indent + 2, append_seccomp_rule);
    close_object(out, first, indent);
}

} // namespace

std::string spec_text(const ContainerSpec& spec) {
    json j;
    fill_spec_json(j, spec, true);
    std::string text = j.dump(2);
    if (!written_directly(spec.linux.seccomp)) {
        return text;
    }
    // linux.seccomp is the member at two levels' indentation inside the
    // top-level "linux" object: no string anywhere in the spec can make a
    // raw newline followed by exactly that, so the marker found is its own.
    constexpr std::string_view linux_member = "\n  \"linux\": {";
    const std::string marker = json(seccomp_marker).dump(); // as the dump writes it, quoted
    const std::string member = "\n    \"seccomp\": " + marker;
    const std::size_t linux_at = text.find(linux_member);
    const std::size_t at = linux_at == std::string::npos ? linux_at : text.find(member, linux_at);
    const std::size_t linux_end = linux_at == std::string::npos ? linux_at : text.find("\n  }", linux_at);
    if (at == std::string::npos || at > linux_end) {
        return json(spec).dump(2); // not where it must be: the tree, slowly
    }
    std::string profile;
    profile.reserve(16 * 1024);
    append_seccomp(profile, *spec.linux.seccomp, 4);
    text.replace(at + member.size() - marker.size(), marker.size(), profile);
    return text;
}

std::vector<Publish> publish_from_json(const json& a) {
    std::vector<Publish> publish;
    for (const auto& pub : a) {
        publish.push_back({pub.at("hostIP").get<std::string>(), pub.at("hostPort").get<std::uint16_t>(),
                           pub.at("containerPort").get<std::uint16_t>(), pub.at("protocol").get<std::string>()});
    }
    return publish;
}

ContainerSpec listing_spec_from_json(const json& j) {
    ContainerSpec s;
    s.process.args = j.at("process").at("args").get<std::vector<std::string>>();
    s.nsrun.publish = publish_from_json(j.at("org.nsrun").at("publish"));
    return s;
}

ContainerSpec lifecycle_spec_from_json(const json& j) {
    ContainerSpec s;
    s.oci_version = j.at("ociVersion").get<std::string>();
    s.hooks = hooks_from_json(j.value("hooks", json::object()));
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    return s;
}

void from_json(const json& j, ContainerSpec& s) {
    s = lifecycle_spec_from_json(j); // ociVersion, hooks, annotations
    const json& p = j.at("process");
    s.process.terminal = p.at("terminal").get<bool>();
    const json& u = p.at("user");
    s.process.user.uid = u.at("uid").get<std::uint32_t>();
    s.process.user.gid = u.at("gid").get<std::uint32_t>();
    s.process.user.additional_gids = u.value("additionalGids", std::vector<std::uint32_t>{});
    get_optional(u, "umask", s.process.user.umask);
    s.process.args = p.at("args").get<std::vector<std::string>>();
    s.process.env = p.at("env").get<std::vector<std::string>>();
    s.process.cwd = p.at("cwd").get<std::string>();
    if (p.contains("capabilities")) { // absent in records written before hardening
        const json& c = p.at("capabilities");
        auto& caps = s.process.capabilities;
        for (auto [key, set] : {std::pair{"bounding", &caps.bounding}, std::pair{"effective", &caps.effective},
                                std::pair{"inheritable", &caps.inheritable}, std::pair{"permitted", &caps.permitted},
                                std::pair{"ambient", &caps.ambient}}) {
            *set = c.value(key, std::vector<std::string>{});
        }
    }
    s.process.no_new_privileges = p.value("noNewPrivileges", false);
    // The fields below are absent in records written before config.json support.
    s.process.rlimits = rlimits_from_json(p.value("rlimits", json::array()));
    get_optional(p, "oomScoreAdj", s.process.oom_score_adj);
    if (p.contains("consoleSize")) {
        s.process.console_size = ConsoleSize{p.at("consoleSize").at("height").get<unsigned>(),
                                             p.at("consoleSize").at("width").get<unsigned>()};
    }
    s.root = {j.at("root").at("path").get<std::string>(), j.at("root").at("readonly").get<bool>()};
    s.hostname = j.at("hostname").get<std::string>();
    for (const auto& m : j.at("mounts")) {
        s.mounts.push_back({m.at("destination").get<std::string>(), m.at("type").get<std::string>(),
                            m.at("source").get<std::string>(), m.at("options").get<std::vector<std::string>>()});
    }
    const json& l = j.at("linux");
    for (const auto& n : l.at("namespaces")) {
        s.linux.namespaces.push_back({n.at("type").get<std::string>(), n.value("path", std::string{})});
    }
    s.linux.uid_mappings = ranges_from_json(l.at("uidMappings"));
    s.linux.gid_mappings = ranges_from_json(l.at("gidMappings"));
    const json& r = l.at("resources");
    if (r.contains("memory")) {
        get_optional(r.at("memory"), "limit", s.linux.resources.memory);
        get_optional(r.at("memory"), "swap", s.linux.resources.memory_swap);
    }
    if (r.contains("cpu")) {
        get_optional(r.at("cpu"), "cpus", s.linux.resources.cpus);
        get_optional(r.at("cpu"), "weight", s.linux.resources.cpu_weight);
    }
    if (r.contains("pids")) s.linux.resources.pids_limit = r.at("pids").at("limit").get<unsigned>();
    s.linux.resources.devices = devices_from_json(r.value("devices", json::array()));
    s.linux.cgroups_path = l.at("cgroupsPath").get<std::string>();
    s.linux.masked_paths = l.at("maskedPaths").get<std::vector<std::string>>();
    s.linux.readonly_paths = l.at("readonlyPaths").get<std::vector<std::string>>();
    s.linux.seccomp = seccomp_from_json(l.value("seccomp", json()));
    s.linux.sysctl = l.value("sysctl", std::map<std::string, std::string>{});
    s.linux.rootfs_propagation = l.value("rootfsPropagation", std::string{});
    s.linux.devices = nodes_from_json(l.value("devices", json::array()));
    const json& x = j.at("org.nsrun");
    s.nsrun.name = x.at("name").get<std::string>();
    s.nsrun.network = network_from_string(x.at("network").get<std::string>());
    s.nsrun.network_container = x.at("networkContainer").get<std::string>();
    s.nsrun.ipc_container = x.at("ipcContainer").get<std::string>();
    s.nsrun.ipc_host = x.at("ipcHost").get<bool>();
    s.nsrun.bridge = x.at("bridge").get<std::string>();
    s.nsrun.subnet = x.at("subnet").get<std::string>();
    s.nsrun.state_dir = x.at("stateDir").get<std::string>();
    s.nsrun.publish = publish_from_json(x.at("publish"));
    s.nsrun.rootless = x.at("rootless").get<bool>();
    s.nsrun.detach = x.at("detach").get<bool>();
    s.nsrun.auto_remove = x.at("autoRemove").get<bool>();
    s.nsrun.interactive = x.at("interactive").get<bool>();
    s.nsrun.init = x.at("init").get<bool>();
    s.nsrun.stop_timeout = x.at("stopTimeout").get<unsigned>();
    s.nsrun.privileged = x.value("privileged", false);
    s.nsrun.image = x.value("image", std::string{});
    s.nsrun.image_id = x.value("imageId", std::string{});
    s.nsrun.image_layers = x.value("imageLayers", std::vector<std::string>{});
    s.nsrun.bundle = x.value("bundle", std::string{});
}
