/// @file state.hpp
/// The state on disk: `STATE_DIR/containers/<id>/state.json`, one per container,
/// written atomically (rename) under the container's flock.  It holds the
/// spec, the lifecycle (status, pids with their start times, exit status, OOM
/// flag) and every host resource the container owns — each recorded *before*
/// it is created, so that `rm`, `gc` and a crashed runtime's cleanup can
/// undo exactly what exists, with one teardown (teardown() in container.cpp).
#pragma once

#include "spec.hpp"

#include <nsrun/fs.hpp>
#include <nsrun/identity.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

/// A process as the host sees it: pid *and* start time (common's
/// identity.hpp), so a reused pid is never mistaken for ours.
using ProcessId = nsrun::ProcessIdentity;

/// The identity of `pid` now ({pid, 0} names nobody once it is gone).
ProcessId identity_of(pid_t pid);

/// Where a container is in its life.
enum class Status {
    creating, ///< setup in progress
    created,  ///< OCI `create` done: the init waits on the exec fifo for `start`
    running,  ///< COMMAND was exec'd
    paused,   ///< OCI `pause`: its cgroup is frozen
    exited,   ///< it ended; exit_code is set
};

/// Every host resource a container owns (what teardown undoes).
struct HostResources {
    std::vector<std::string> cgroups;        ///< the container's cgroup directories
    std::vector<std::string> cgroup_parents; ///< the shared nsrun/ directories (removed if empty)
    std::string veth;                        ///< host end of the veth pair
    std::string lease;                       ///< lease file of the bridge address
    std::string address;                     ///< the container's eth0 address (CIDR)
    std::vector<std::string> nft_elements;   ///< "ip nsrun publish_any { tcp . 8080 }" …
    std::vector<std::string> mounts;         ///< host-side mounts (none yet: all mounts are inside)
    bool operator==(const HostResources&) const = default;
    [[nodiscard]] bool empty() const { return *this == HostResources{}; }
};

/// One container's record (state.json).
struct Record {
    std::string id;
    std::string name;
    ContainerSpec spec;
    Status status = Status::creating;
    std::string created;            ///< RFC 3339, UTC
    std::string started;
    std::string finished;
    ProcessId owner;                ///< the process that supervises it: foreground runtime or monitor
    ProcessId init;                 ///< the container's PID 1, as the host sees it
    std::optional<int> exit_code;   ///< docker's: status, 128+N
    bool oom_killed = false;
    std::string error;              ///< why setup failed, if it did
    HostResources resources;
    /// Made by the OCI interface (`create`): no supervisor of nsrun's; the
    /// caller (conmon, the containerd shim) is the init's parent, and the
    /// record stays until `delete` (gc leaves it alone).
    bool oci = false;
    std::string bundle; ///< OCI: the bundle directory `create` was given
    bool operator==(const Record&) const = default;

    /// "running", "exited", or "dead" when the record says it is alive but
    /// its owner is gone (killed with SIGKILL: nothing recorded its end).
    [[nodiscard]] std::string state() const;
    /// The owner died before recording the end.
    [[nodiscard]] bool is_dead() const;
};

std::string to_string(Status status);
void to_json(nlohmann::json& j, const Record& record);
void from_json(const nlohmann::json& j, Record& record);

/// A record read from disk, or why it could not be (a garbled file is
/// reported, never a crash: `rm`/`gc` can still reclaim its directory).
struct Loaded {
    std::string id;
    std::string dir;
    std::optional<Record> record;
    std::string problem; ///< set when record is empty
};

/// A record read for one step of the OCI lifecycle after `create` (start,
/// delete, state): each is a process of its own that reads the record once.
/// The lifecycle is parsed; the spec, most of the text, is not: it is
/// kept as state.json holds it (written back unchanged by Store::save) and
/// only the members those steps read are parsed (lifecycle_spec_from_json).
struct LifecycleRecord {
    Record record;         ///< record.spec: ociVersion, annotations and hooks only
    std::string spec_text; ///< the spec's text in state.json
};

/// A LifecycleRecord read from disk, or why it could not be (as Loaded).
struct LoadedLifecycle {
    std::optional<LifecycleRecord> lifecycle;
    std::string problem; ///< set when lifecycle is empty
};

/// The containers of one state directory.
class Store {
public:
    explicit Store(std::string state_dir);

    [[nodiscard]] const std::string& root() const noexcept { return root_; }
    [[nodiscard]] std::string dir_of(const std::string& id) const { return root_ + "/" + id; }

    /// Make the directory of a new container and hold its lock; the caller
    /// writes the first record with save().  The directory appears under
    /// its id with the lock already held (made as ".new-ID", locked, then
    /// renamed), so `gc` never sees a new container unlocked and without a
    /// record — it would take it for the leftover of a crash.
    [[nodiscard]] nsrun::fs::FileLock create(const std::string& id);
    /// Remove the ".new-ID" directories of runtimes that died before their
    /// container's directory got its name (their lock is free).
    void remove_unfinished() const;
    /// Hold the lock of an existing container.
    [[nodiscard]] nsrun::fs::FileLock lock(const std::string& id) const;
    /// Write `record` atomically (the caller holds its lock).
    void save(const Record& record) const;
    /// Write a record whose spec is kept as text (the caller holds its lock).
    void save(const LifecycleRecord& loaded) const;
    /// Read one container's record.
    [[nodiscard]] Loaded load(const std::string& id) const;
    /// Read one container's record, its spec left as text but for what the
    /// OCI lifecycle reads (see LifecycleRecord).
    [[nodiscard]] LoadedLifecycle load_lifecycle(const std::string& id) const;
    /// Whether the container may still own a process or a host resource:
    /// false once a save recorded it exited with nothing left (then a
    /// sweep has nothing to reclaim and need not read its record).
    [[nodiscard]] bool may_own_resources(const std::string& id) const;
    /// The ids of every container directory, unsorted, records unread.
    [[nodiscard]] std::vector<std::string> ids() const;
    /// Every container directory, sorted by creation (oldest first).
    [[nodiscard]] std::vector<Loaded> list() const;
    /// The lifecycle part of a record (its spec left empty), when the record
    /// has record_text()'s layout and is this container's; else nothing,
    /// and load() says why.  What a sweep needs to see whether a container's
    /// supervisor still lives, without parsing its spec.
    [[nodiscard]] std::optional<Record> load_head(const std::string& id) const;
    /// The lifecycle and, of the spec, only what `ps` shows (process.args,
    /// the published ports), when the record has record_text()'s layout and
    /// is this container's; else nothing, and load() says why.
    [[nodiscard]] std::optional<Record> load_listing(const std::string& id) const;
    /// list() with each record read only as far as its lifecycle
    /// (load_head: the spec left empty), a record of another layout whole:
    /// what resolving a name, checking one is free, and `ps` filtering by
    /// status need, at a small part of list()'s cost.
    [[nodiscard]] std::vector<Loaded> list_heads() const;
    /// NAME, ID or a unique ID prefix → the container's id.  Throws 125
    /// ("no such container") otherwise.
    [[nodiscard]] std::string resolve(const std::string& name_or_id) const;
    /// Remove the container's directory and all in it.
    void remove(const std::string& id) const;

private:
    /// The text of state.json for `record` (in text_, valid until the next call).
    [[nodiscard]] const std::string& record_text(const Record& record) const;
    /// The same, around a spec already serialized (and indented) as `spec_text`.
    [[nodiscard]] const std::string& record_text(const Record& record, const std::string& spec_text) const;
    /// Write `text` as `record`'s state.json, atomically; drop the active
    /// marker once the record says nothing is left to reclaim.
    void write_record(const Record& record, const std::string& text) const;

    std::string root_; ///< STATE_DIR/containers
    /// The spec last saved and its json text (record_text() reuses it).
    mutable std::optional<std::pair<ContainerSpec, std::string>> spec_text_;
    mutable std::string text_; ///< record_text()'s buffer
};

/// A directory name of the store: a 12-hex id of `nsrun run`, or an OCI
/// container id (letters, digits, underscore, dot, plus and minus; not
/// starting with a dot).
bool is_store_id(const std::string& name);

/// Now, RFC 3339 with nanoseconds, UTC: "2026-12-04T20:15:03.123456789Z".
std::string now_rfc3339();
