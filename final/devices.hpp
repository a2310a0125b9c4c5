/// @file devices.hpp
/// The device cgroup: which device nodes the container may open (read,
/// write) or create (mknod).  A container's /dev is a fresh tmpfs holding
/// only harmless nodes, but root in it keeps CAP_MKNOD (docker's default):
/// without this layer `mknod /dev/sda b 8 0` would open the host's disk.
/// cgroup v1: the devices controller's devices.deny/devices.allow files.
/// cgroup v2 has no such files: an eBPF program of type
/// BPF_PROG_TYPE_CGROUP_DEVICE, attached to the container's cgroup, answers
/// for every open and mknod (as runc and crun do).
#pragma once

#include "spec.hpp"

#include <linux/bpf.h>

#include <string>
#include <vector>

/// docker's default rules: deny everything; allow mknod of any char or
/// block device (opening it is what is refused); allow rwm of null, zero,
/// full, random, urandom, tty, ptmx, /dev/pts/* — and console with a terminal.
std::vector<DeviceRule> default_device_rules(bool terminal);
/// OCI create, as runc does: after config.json's own rules, allow what the
/// runtime puts in every /dev (default_device_rules' allows: mknod of any
/// node, null, zero, full, random, urandom, tty, ptmx, /dev/pts/*; the
/// nodes of linux.devices are with_device_nodes_allowed's).  The callers'
/// configs deny everything first and count on these (ctr's and podman's
/// list no /dev/null).
void allow_runtime_devices(Linux& linux);
/// --privileged: every device (docker's "a *:* rwm" allow).
std::vector<DeviceRule> privileged_device_rules();

/// `rules` plus an allow "rwm" for each node of config.json's linux.devices
/// (or --device) that no rule names exactly (type, major and minor): a node
/// the container was given is one it may use, as runc allows them.  A rule of
/// the caller's own for that node (--device's ":r") decides instead.  No
/// rules, no device cgroup: nothing to add.
std::vector<DeviceRule> with_device_nodes_allowed(std::vector<DeviceRule> rules, const std::vector<DeviceNode>& nodes);

/// Make config.json's linux.devices (and --device's) nodes inside the
/// container's root `root` ("" for "/", after pivot_root): each parent made
/// and resolved inside the root (make_in_root), the node made in it with
/// mknodat(2), then chowned and chmodded.  In a user namespace mknod of a
/// device is refused: `bind_from_host` bind-mounts the host's node instead
/// (--device's HOST, else the node at the same path; its type and numbers
/// checked) onto an empty file made at the node's path (as runc rootless).
void make_device_nodes(const std::string& root, const std::vector<DeviceNode>& nodes, bool bind_from_host);

/// `nsrun run --device HOST[:CONTAINER][:PERMS]` (docker's syntax): the
/// host's char or block device HOST (stat(2), symlinks followed, e.g.
/// /dev/disk/by-id/…) made at CONTAINER (default: HOST's path) with HOST's
/// mode and owner, and the device cgroup rule that lets the container use it
/// with PERMS, a subset of "rwm" (default "rwm").
struct DeviceRequest {
    DeviceNode node;
    DeviceRule rule;
};
DeviceRequest parse_device_flag(const std::string& text);

/// One rule as v1's devices.allow/devices.deny take it: "c 1:3 rwm", "a *:* rwm".
std::string v1_device_rule(const DeviceRule& rule);

/// The eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that enforces `rules`:
/// the last matching rule decides (OCI's order), nothing matching is denied.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

/// Load device_program(rules) and attach it to the cgroup directory `dir`
/// (bpf(2) BPF_PROG_LOAD, BPF_PROG_ATTACH with BPF_CGROUP_DEVICE).  The
/// attachment lives as long as the cgroup.  Throws nsrun::Error with the
/// verifier's log on refusal.
void attach_device_program(const std::string& dir, const std::vector<DeviceRule>& rules);
