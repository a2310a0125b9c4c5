/// @file oci.hpp
/// The OCI runtime interface's lifecycle on top of the engine (runtime.md of
/// the OCI runtime spec, and runc's command line, which podman's conmon and
/// containerd's runc shim call):
///
///     create ──> created ──start──> running ──(init exits)──> stopped ──delete──> (gone)
///                   │                  │  ▲
///                   │                pause│resume
///                   │                  ▼  │
///                   │                 paused
///                   └──────────── kill / delete --force ──────────────> stopped / gone
///
/// `create` leaves the init blocked on the exec fifo; `start` opens the fifo
/// and the init execs.  Nothing of nsrun supervises the container between
/// the commands: every command reads the record, checks the init's identity
/// (pid and start time) and acts.
#pragma once

#include "spec.hpp"
#include "state.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <sys/types.h>
#include <vector>

/// The OCI status of a record: "creating", "created", "running", "paused"
/// or "stopped" (the init is gone, whatever the record last said).
std::string oci_status(const Record& record);

/// The state object of runtime.md: ociVersion, id, status, pid (absent once
/// stopped), bundle, annotations.
nlohmann::json oci_state(const Record& record);

/// Whether the store has a container directory named `id` (exactly).
bool container_exists(const Store& store, const std::string& id);

/// The record of container `id`, found by its exact id (no prefix, no
/// name: callers pass the id they chose).  125 if there is none.
Record load_container(const Store& store, const std::string& id);
/// The same, its spec left as text but for ociVersion, annotations and hooks
/// (LifecycleRecord): for the commands that read only those.
LifecycleRecord load_container_lifecycle(const Store& store, const std::string& id);

/// The pids in the container's cgroup (its first hierarchy's cgroup.procs),
/// or just its init when it has no cgroup.
std::vector<pid_t> container_pids(const Record& record);

/// `start`: only from created.  Opens the exec fifo, which lets the init exec.
void start_container(const Store& store, const std::string& id);

/// `delete`: a stopped or created container (any, with `force`: its processes
/// are killed) loses every host resource the record names, then the record.
void delete_container(const Store& store, const std::string& id, bool force);

/// `pause`/`resume`: freeze or thaw the container's cgroup (v2 cgroup.freeze,
/// v1 the freezer hierarchy's freezer.state) and record the status.
void set_paused(const Store& store, const std::string& id, bool paused);

/// `update`: write new limits into the live cgroup (memory, CPU, pids).
void update_resources(const Record& record, const Resources& resources);

/// A signal by name (KILL, SIGKILL, kill) or number; 125 otherwise.
int parse_signal(const std::string& text);
