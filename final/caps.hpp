// Capabilities (man 7 capabilities): root's power split into ~40 pieces.
// A container's root keeps docker's default 14 and loses the rest for good.
#pragma once

#include "spec.hpp"

#include <cstdint>
#include <string>
#include <vector>

/// docker's default set: what most programs that start as root need, and
/// nothing that reaches beyond the container (no SYS_ADMIN, NET_ADMIN,
/// SYS_MODULE, SYS_PTRACE, DAC_READ_SEARCH, …).
const std::vector<std::string>& default_capabilities();

/// Every capability this kernel has (0 … /proc/sys/kernel/cap_last_cap), by name.
std::vector<std::string> all_capabilities();

/// "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; "all" →
/// "ALL".  Throws nsrun::Error (125) naming `flag` for anything else.
std::string normalize_capability(const std::string& name, const std::string& flag);

/// The capabilities nsrun itself may hand on: those in its own bounding set
/// (a runtime started in a restricted environment has fewer than the kernel).
std::vector<std::string> runtime_capabilities();

/// docker's arithmetic (moby's TweakCapabilities): --privileged or
/// --cap-add ALL is every capability `available` but those dropped;
/// --cap-drop ALL keeps only those added; otherwise the default set, minus
/// the dropped, plus the added.  Names must be normalized; an added name
/// that is not `available` throws nsrun::Error (125).  The result is in
/// capability order.
std::vector<std::string> capability_set(const std::vector<std::string>& add, const std::vector<std::string>& drop,
                                        bool privileged, const std::vector<std::string>& available);

/// The five OCI sets of a process that runs as `user` with capability set
/// `set`: bounding and inheritable are the set; effective and permitted too
/// for root, and empty for any other user (as docker does: a non-root
/// process gains nothing from the set unless a file capability asks for
/// it); ambient is always empty.
Capabilities capabilities_for(const std::vector<std::string>& set, const User& user);

/// Bit N set for capability number N of each name.
std::uint64_t capability_mask(const std::vector<std::string>& names);

/// Child, before the uid changes: drop every capability not in the bounding
/// set (prctl PR_CAPBSET_DROP; needs CAP_SETPCAP, which root still has).
void restrict_bounding_set(const Capabilities& caps);

/// Child, after the uid changed: the effective, permitted and inheritable
/// sets (capset(2)) and the ambient set (prctl PR_CAP_AMBIENT).
void set_capabilities(const Capabilities& caps);
