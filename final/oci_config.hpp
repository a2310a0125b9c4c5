/// @file oci_config.hpp
/// An OCI bundle's config.json (the runtime spec's config.md) compiled into
/// a ContainerSpec — the second way in, next to `nsrun run`'s flags
/// (cli_run.cpp) — and the two documents nsrun writes for the callers that
/// drive it as their OCI runtime: `nsrun spec` and `nsrun features`.
///
/// The rule for config.json: every field nsrun honours is checked and
/// compiled; a field it knows but cannot honour (linux.intelRdt, an
/// AppArmor profile, a time namespace, a systemd cgroup path, …) is refused
/// with its JSON path, never skipped — a container that silently runs with
/// less isolation than its config asked for is worse than one that does not
/// start.  Properties the spec does not define are ignored, as config.md's
/// "Extensibility" section requires of runtimes.
#pragma once

#include "spec.hpp"

#include <filesystem>

#include <nlohmann/json.hpp>

/// Compile a parsed config.json.  `bundle` is the bundle directory: a
/// relative root.path and relative bind sources are resolved against it,
/// and it is recorded (absolute) in spec.nsrun.bundle.  Throws nsrun::Error
/// (125) naming the field as a JSON path —
/// `config.json: linux.resources.devices[2].access: "rwq" is not a subset of "rwm"` —
/// with a hint.  Reads nothing from disk: whether root.path exists is the
/// engine's check.
ContainerSpec spec_from_oci_config(const nlohmann::json& config, const std::filesystem::path& bundle);

/// Read and compile BUNDLE/config.json.  A missing or unreadable file is
/// refused naming the file and the errno text; malformed JSON with the
/// parser's message (its byte position and line).
ContainerSpec spec_from_bundle(const std::filesystem::path& bundle);

/// What `nsrun spec [--rootless]` writes, like `runc spec`: `sh` in a
/// terminal, root.path "rootfs" read-only, docker's default capabilities,
/// the usual mounts (/proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys,
/// /sys/fs/cgroup), masked and read-only paths, a deny-all device rule and
/// new pid, network, ipc, uts and mount namespaces.  `rootless` adds a user
/// namespace mapping root inside to the caller's uid and gid, binds /sys
/// instead of mounting sysfs (a user namespace may not mount a sysfs for a
/// network namespace it does not own) and drops the cgroup mount, the
/// device rule and devpts's gid=5 (not mapped).  spec_from_oci_config
/// accepts both.
nlohmann::json default_oci_config(bool rootless);

/// What `nsrun features` prints (the runtime spec's features.md shape, as
/// `runc features`): the OCI versions, hook names, mount options, and under
/// "linux" the namespaces, capabilities, cgroup (v1, v2; systemd: false),
/// seccomp (enabled, actions, operators, archs), apparmor/selinux (false);
/// "annotations" names nsrun's version.
nlohmann::json oci_features();
