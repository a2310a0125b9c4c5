// state.json and the store of containers.
#include "state.hpp"

#include "names.hpp"
#include "tree.hpp"

#include <nsrun/container_id.hpp>

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <functional>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using json = nlohmann::json;

// --- processes ------------------------------------------------------------

ProcessId identity_of(pid_t pid) { return ProcessId::of(pid).value_or(ProcessId{}); }

// --- records ----------------------------------------------------------------

std::string to_string(Status status) {
    switch (status) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::paused: return "paused";
    case Status::exited: return "exited";
    }
    return "unknown";
}

namespace {

Status status_from_string(const std::string& text) {
    for (const Status s : {Status::creating, Status::created, Status::running, Status::paused, Status::exited}) {
        if (to_string(s) == text) {
            return s;
        }
    }
    throw nsrun::Error{fmt::format("unknown status '{}'", text)};
}

json process_json(const ProcessId& p) { return {{"pid", p.pid}, {"startTime", p.start_time}}; }
ProcessId process_from(const json& j) { return {j.at("pid").get<pid_t>(), j.at("startTime").get<std::uint64_t>()}; }

} // namespace

bool Record::is_dead() const { return status != Status::exited && !nsrun::is_alive(owner); }

std::string Record::state() const {
    if (is_dead()) {
        return "dead";
    }
    return to_string(status);
}

namespace {

/// Everything of a record but its spec: what changes from one save to the next.
json lifecycle_json(const Record& r) {
    json j = {
        {"id", r.id},
        {"name", r.name},
        {"status", to_string(r.status)},
        {"created", r.created},
        {"started", r.started},
        {"finished", r.finished},
        {"owner", process_json(r.owner)},
        {"init", process_json(r.init)},
        {"exitCode", r.exit_code ? json(*r.exit_code) : json(nullptr)},
        {"oomKilled", r.oom_killed},
        {"error", r.error},
        {"resources",
         {{"cgroups", r.resources.cgroups},
          {"cgroupParents", r.resources.cgroup_parents},
          {"veth", r.resources.veth},
          {"lease", r.resources.lease},
          {"address", r.resources.address},
          {"nftElements", r.resources.nft_elements},
          {"mounts", r.resources.mounts}}},
    };
    if (r.oci) {
        j["oci"] = {{"bundle", r.bundle}};
    }
    return j;
}

} // namespace

void to_json(json& j, const Record& r) {
    j = lifecycle_json(r);
    j["spec"] = r.spec;
}

namespace {

/// Everything of a record but its spec (lifecycle_json's inverse).
void lifecycle_from_json(const json& j, Record& r) {
    r = Record{};
    r.id = j.at("id").get<std::string>();
    r.name = j.at("name").get<std::string>();
    r.status = status_from_string(j.at("status").get<std::string>());
    r.created = j.at("created").get<std::string>();
    r.started = j.at("started").get<std::string>();
    r.finished = j.at("finished").get<std::string>();
    r.owner = process_from(j.at("owner"));
    r.init = process_from(j.at("init"));
    if (!j.at("exitCode").is_null()) {
        r.exit_code = j.at("exitCode").get<int>();
    }
    r.oom_killed = j.at("oomKilled").get<bool>();
    r.error = j.at("error").get<std::string>();
    const json& res = j.at("resources");
    r.resources.cgroups = res.at("cgroups").get<std::vector<std::string>>();
    r.resources.cgroup_parents = res.at("cgroupParents").get<std::vector<std::string>>();
    r.resources.veth = res.at("veth").get<std::string>();
    r.resources.lease = res.at("lease").get<std::string>();
    r.resources.address = res.at("address").get<std::string>();
    r.resources.nft_elements = res.at("nftElements").get<std::vector<std::string>>();
    r.resources.mounts = res.at("mounts").get<std::vector<std::string>>();
    if (j.contains("oci")) {
        r.oci = true;
        r.bundle = j.at("oci").at("bundle").get<std::string>();
    }
}

} // namespace

void from_json(const json& j, Record& r) {
    lifecycle_from_json(j, r);
    r.spec = j.at("spec").get<ContainerSpec>();
}

bool is_store_id(const std::string& name) {
    if (nsrun::is_container_id(name)) {
        return true;
    }
    return !name.empty() && name.size() <= 1024 && name.front() != '.' &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") ==
               std::string::npos;
}

// --- the store --------------------------------------------------------------

Store::Store(std::string state_dir) : root_(std::move(state_dir) + "/containers") {}

namespace {

constexpr std::string_view unfinished_prefix = ".new-";

/// In a container's directory while the container may still own a process
/// or a host resource: made with the directory, removed by the save that
/// records it exited with nothing left.  The sweep each `run` starts with
/// loads only the records that have one, so exited containers cost it a
/// stat each, not a parse of their state.json.
constexpr std::string_view active_marker = "/active";

void make_active_marker(const std::string& dir) {
    (void)nsrun::sys::open(dir + std::string(active_marker), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
}

/// rename(2) that never replaces `to` (an existing empty directory would be).
void rename_noreplace(const std::string& from, const std::string& to) {
    const int rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
    const int err = errno;
    nsrun::explain::note("renameat2({}, {}, RENAME_NOREPLACE) {}", nsrun::explain::quote(from),
                         nsrun::explain::quote(to), nsrun::explain::result(rc, err));
    if (rc == -1) {
        throw nsrun::SysError(fmt::format("renameat2({}, {}, RENAME_NOREPLACE)", from, to), err);
    }
}

} // namespace

nsrun::fs::FileLock Store::create(const std::string& id) {
    nsrun::fs::make_dirs(root_, 0711);
    const std::string unfinished = fmt::format("{}/{}{}", root_, unfinished_prefix, id);
    // gc removes an unfinished directory whose lock nobody holds (its maker
    // was killed): it may do so in the instant between our mkdir and our
    // flock.  Then one of the three calls fails with ENOENT: start again.
    for (int attempt = 1;; ++attempt) {
        try {
            nsrun::sys::mkdir(unfinished, 0711, /*exist_ok=*/false);
            nsrun::fs::FileLock lock(unfinished + "/lock");
            make_active_marker(unfinished);
            rename_noreplace(unfinished, dir_of(id)); // the lock file keeps its inode: still ours
            return lock;
        } catch (const nsrun::SysError& e) {
            if (e.error_number() != ENOENT || attempt == 3) {
                throw;
            }
        }
    }
}

void Store::remove_unfinished() const {
    DIR* dir = ::opendir(root_.c_str());
    if (!dir) {
        return;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name.starts_with(unfinished_prefix) && is_store_id(name.substr(unfinished_prefix.size()))) {
            names.push_back(name);
        }
    }
    ::closedir(dir);
    for (const auto& name : names) {
        const std::string path = root_ + "/" + name;
        // Its maker holds the lock until it renames it: a lock we can take
        // means the maker was killed.  (One that has only just made it may
        // not hold the lock yet: Store::create starts again if it loses it.)
        std::optional<nsrun::fs::FileLock> lock;
        try {
            lock = nsrun::fs::FileLock::try_acquire(path + "/lock");
        } catch (const nsrun::SysError&) {
            continue; // renamed (finished) or removed meanwhile
        }
        if (!lock) {
            continue; // a runtime is making it right now
        }
        ::unlink((path + std::string(active_marker)).c_str());
        ::unlink((path + "/lock").c_str());
        (void)nsrun::sys::try_rmdir(path); // narrated; a directory still in use stays
    }
}

nsrun::fs::FileLock Store::lock(const std::string& id) const { return nsrun::fs::FileLock(dir_of(id) + "/lock"); }

namespace {

/// The spec's json text as a member of the record's object: indented one level.
/// (Copied once into a new string: inserting the indentation in place moved
/// the rest of the text at each of its lines.)
std::string indented_spec_text(const ContainerSpec& spec) {
    const std::string text = spec_text(spec);
    std::string indented;
    indented.reserve(text.size() + 2 * static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')));
    std::size_t from = 0;
    for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', from)) {
        indented.append(text, from, at + 1 - from).append("  ");
        from = at + 1;
    }
    return indented.append(text, from);
}

/// How record_text() joins a record's two parts: the lifecycle's members,
/// then the spec's, last, so that load_lifecycle() can cut the text in two
/// without parsing the spec.  (In the lifecycle every other member is at this
/// indentation, and JSON strings hold no raw newline: the marker is unique.)
constexpr std::string_view spec_member = ",\n  \"spec\": ";
constexpr std::string_view record_end = "\n}\n";

} // namespace

const std::string& Store::record_text(const Record& record) const {
    // A start saves its record five or six times and the spec, most of it
    // (a config.json's seccomp profile alone is ~6 KB), rarely changes in between:
    // serialize it once and splice its text in, instead of building and
    // dumping a json tree of every syscall name on each save.  The text is
    // built in a buffer kept from one save to the next.
    if (!spec_text_ || spec_text_->first != record.spec) {
        spec_text_.emplace(record.spec, indented_spec_text(record.spec));
    }
    return record_text(record, spec_text_->second);
}

const std::string& Store::record_text(const Record& record, const std::string& spec_text) const {
    text_ = lifecycle_json(record).dump(2); // "{\n  ...\n}"
    text_.resize(text_.size() - 2);          // drop "\n}"
    text_ += spec_member;
    text_ += spec_text;
    text_ += record_end;
    return text_;
}

void Store::save(const Record& record) const { write_record(record, record_text(record)); }

void Store::save(const LifecycleRecord& loaded) const {
    write_record(loaded.record, record_text(loaded.record, loaded.spec_text));
}

void Store::write_record(const Record& record, const std::string& text) const {
    // A record describes processes and kernel objects of this boot only: it
    // must survive a killed runtime (the rename does that), not a power loss.
    nsrun::fs::write_file_atomic(dir_of(record.id) + "/state.json", text, 0644, nsrun::fs::Durability::process_crash);
    if (record.status == Status::exited && record.resources.empty()) {
        ::unlink((dir_of(record.id) + std::string(active_marker)).c_str()); // nothing left for a sweep
    }
}

bool Store::may_own_resources(const std::string& id) const {
    return ::access((dir_of(id) + std::string(active_marker)).c_str(), F_OK) == 0;
}

namespace {

/// The whole text of `path`, or why not in `problem` (a record that cannot
/// be read is reported, never thrown: see Loaded).
std::optional<std::string> read_record_text(const std::string& path, std::string& problem) {
    try {
        return nsrun::sys::read_file(path);
    } catch (const nsrun::SysError& e) {
        problem = fmt::format("{}: {}", path, nsrun::errno_text(e.error_number()));
        return std::nullopt;
    }
}

/// state.json's text → its record, checked to be container `id`'s.
void parse_record(const std::string& path, const std::string& id, const std::string& text, Loaded& loaded) {
    try {
        loaded.record = json::parse(text).get<Record>();
        if (loaded.record->id != id) {
            loaded.problem = fmt::format("{}: the record is of container {}", path, loaded.record->id);
            loaded.record.reset();
        }
    } catch (const std::exception& e) {
        loaded.problem = fmt::format("{} is garbled: {}", path, e.what());
    }
}

/// A spec's members that lifecycle_spec_from_json reads; the parser drops
/// the others (the mounts, the seccomp profile …) as it reads them.
bool lifecycle_spec_member(int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key) {
        return parsed == "ociVersion" || parsed == "annotations" || parsed == "hooks";
    }
    return true;
}

/// The spec's members listing_spec_from_json reads (`ps`'s COMMAND and PORTS).
bool listing_spec_member(int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key) {
        return parsed == "process" || parsed == "org.nsrun";
    }
    if (depth == 2 && event == json::parse_event_t::key) {
        return parsed == "args" || parsed == "publish";
    }
    return true;
}

/// A text in record_text()'s layout → its LifecycleRecord, the spec parsed
/// only for its lifecycle members; nullopt if the text is laid out otherwise
/// (a record written by another version) or does not parse.
std::optional<LifecycleRecord> parse_lifecycle(
    const std::string& text, const json::parser_callback_t& spec_member_read = lifecycle_spec_member,
    const std::function<ContainerSpec(const json&)>& spec_from_json = lifecycle_spec_from_json) {
    const std::size_t at = text.find(spec_member);
    if (at == std::string::npos || !text.ends_with(record_end) ||
        at + spec_member.size() > text.size() - record_end.size()) {
        return std::nullopt;
    }
    try {
        LifecycleRecord loaded;
        std::string lifecycle = text.substr(0, at);
        lifecycle += "\n}";
        lifecycle_from_json(json::parse(lifecycle), loaded.record);
        loaded.spec_text = text.substr(at + spec_member.size(), text.size() - record_end.size() - at - spec_member.size());
        loaded.record.spec = spec_from_json(json::parse(loaded.spec_text, spec_member_read));
        return loaded;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

} // namespace

Loaded Store::load(const std::string& id) const {
    Loaded loaded{id, dir_of(id), std::nullopt, {}};
    const std::string path = loaded.dir + "/state.json";
    if (const auto text = read_record_text(path, loaded.problem)) {
        parse_record(path, id, *text, loaded);
    }
    return loaded;
}

LoadedLifecycle Store::load_lifecycle(const std::string& id) const {
    LoadedLifecycle result;
    const std::string path = dir_of(id) + "/state.json";
    const auto text = read_record_text(path, result.problem);
    if (!text) {
        return result;
    }
    result.lifecycle = parse_lifecycle(*text);
    if (result.lifecycle && result.lifecycle->record.id == id) {
        return result;
    }
    // Another layout, or garbled: the whole record, and load()'s diagnosis.
    Loaded loaded{id, dir_of(id), std::nullopt, {}};
    parse_record(path, id, *text, loaded);
    if (!loaded.record) {
        result.lifecycle.reset();
        result.problem = loaded.problem;
        return result;
    }
    result.lifecycle = LifecycleRecord{*loaded.record, indented_spec_text(loaded.record->spec)};
    return result;
}

std::vector<std::string> Store::ids() const {
    std::vector<std::string> ids;
    DIR* dir = ::opendir(root_.c_str());
    if (!dir) {
        return ids;
    }
    while (const dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (is_store_id(name) && nsrun::fs::is_directory(dir_of(name))) {
            ids.push_back(name);
        }
    }
    ::closedir(dir);
    return ids;
}

std::vector<Loaded> Store::list() const {
    std::vector<Loaded> all;
    const std::vector<std::string> ids = this->ids();
    for (const auto& id : ids) {
        all.push_back(load(id));
    }
    std::sort(all.begin(), all.end(), [](const Loaded& a, const Loaded& b) {
        const std::string ca = a.record ? a.record->created : "";
        const std::string cb = b.record ? b.record->created : "";
        return ca < cb;
    });
    return all;
}

std::optional<Record> Store::load_head(const std::string& id) const {
    // The lifecycle comes first in record_text()'s layout: up to the spec
    // member is a JSON object of its own once closed.  The spec, and docker's
    // seccomp profile in it (~0.5 ms to parse), is not read.
    std::string problem;
    const auto text = read_record_text(dir_of(id) + "/state.json", problem);
    const std::size_t at = text ? text->find(spec_member) : std::string::npos;
    if (at == std::string::npos || !text->ends_with(record_end)) {
        return std::nullopt; // unreadable, cut short, or another layout
    }
    try {
        Record head;
        lifecycle_from_json(json::parse(text->substr(0, at) + "\n}"), head);
        if (head.id == id) {
            return head;
        }
    } catch (const std::exception&) {
        // garbled
    }
    return std::nullopt;
}

std::optional<Record> Store::load_listing(const std::string& id) const {
    std::string problem;
    const auto text = read_record_text(dir_of(id) + "/state.json", problem);
    if (!text) {
        return std::nullopt;
    }
    auto loaded = parse_lifecycle(*text, listing_spec_member, listing_spec_from_json);
    if (!loaded || loaded->record.id != id) {
        return std::nullopt;
    }
    return std::move(loaded->record);
}

std::vector<Loaded> Store::list_heads() const {
    // A command that names a container (and every run --name) reads them
    // all: parsing each whole record cost ~0.5 ms a container (+16 ms for
    // `run --name` among 30).
    std::vector<Loaded> all;
    for (const auto& id : ids()) {
        if (auto head = load_head(id)) {
            all.push_back(Loaded{id, dir_of(id), std::move(head), {}});
        } else {
            all.push_back(load(id)); // another layout, read whole; or why it cannot be read
        }
    }
    std::sort(all.begin(), all.end(), [](const Loaded& a, const Loaded& b) {
        const std::string ca = a.record ? a.record->created : "";
        const std::string cb = b.record ? b.record->created : "";
        return ca < cb;
    });
    return all;
}

std::string Store::resolve(const std::string& name_or_id) const {
    std::vector<std::string> by_prefix;
    for (const auto& c : list_heads()) {
        if (c.id == name_or_id || (c.record && !c.record->name.empty() && c.record->name == name_or_id)) {
            return c.id;
        }
        if (c.id.starts_with(name_or_id)) {
            by_prefix.push_back(c.id);
        }
    }
    if (by_prefix.size() == 1 && is_hex(name_or_id)) {
        return by_prefix.front();
    }
    if (by_prefix.size() > 1 && is_hex(name_or_id)) {
        throw nsrun::Error{fmt::format("'{}' matches {} containers", name_or_id, by_prefix.size()),
                           "give more digits of the id, or the name"};
    }
    throw nsrun::Error{fmt::format("no such container: {}", name_or_id), "see the containers with: nsrun ps -a"};
}

void Store::remove(const std::string& id) const {
    // Everything in it, an image's upper and work directories included.
    remove_tree(dir_of(id));
}

std::string now_rfc3339() {
    // By calendar arithmetic, not gmtime_r: glibc's reads the time zone file
    // (/etc/localtime) on its first call, at every start of nsrun, for a
    // time that is UTC anyway.
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto day = floor<days>(now);
    const year_month_day date{day};
    const hh_mm_ss time{floor<nanoseconds>(now - day)};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(date.year()),
                       static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                       time.minutes().count(), time.seconds().count(), time.subseconds().count());
}
