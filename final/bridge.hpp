/// @file bridge.hpp
/// The bridge: every container's host end on one virtual switch, addresses
/// leased from a subnet, and each container's own /etc/hosts and /etc/hostname.
#pragma once

#include "netns.hpp"
#include "state.hpp"

#include <nsrun/netlink.hpp>

#include <functional>
#include <string>

/// In the parent, before clone: under the leases' file lock, create the
/// bridge if it is not there yet (with the gateway address, up), and lease
/// the next free address: the file STATE/leases/BRIDGE/IP holding the
/// owner's pid and start time.  A lease whose owner is gone (a runtime or
/// monitor killed with SIGKILL) is stale and taken over.  `record` is called
/// with the lease's path as soon as it exists, under the lock.
nsrun::netlink::Cidr join_bridge(const ContainerSpec& spec, const ProcessId& owner,
                                 const std::function<void(const std::string& lease, const nsrun::netlink::Cidr&)>& record);

/// Teardown from the record: unlink the lease, if it is still ours (a stale
/// lease may have been taken over by another container meanwhile).
void release_lease(const std::string& path, const ProcessId& owner) noexcept;

/// `gc`: remove every lease of `state_dir` whose owner is gone.
void sweep_stale_leases(const std::string& state_dir) noexcept;

/// The veth plan for a container on the bridge: eth0 gets the leased
/// address, the default route goes via the gateway, the host end has no
/// address (it is a port of the bridge).
LinkPlan plan_bridge_port(const ContainerSpec& spec, const std::string& id, const nsrun::netlink::Cidr& address);

/// In the parent, after attach_veth: plug the host end into the bridge.
void enslave_to_bridge(const ContainerSpec& spec, const LinkPlan& plan);

/// The container's own /etc/hosts and /etc/hostname, written into its state
/// directory `dir` (removed with it).
void write_etc_files(const std::string& dir, const std::string& hostname, const std::string& address);

/// In the child, mounts private, before enter_rootfs: bind-mount the files
/// over ROOTFS/etc/hosts and ROOTFS/etc/hostname (the shared rootfs itself is
/// never written; the recursive bind of enter_rootfs carries them along).
void bind_etc_files(const std::string& dir, const std::string& rootfs);
