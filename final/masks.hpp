// Masked and read-only paths (OCI linux.maskedPaths, linux.readonlyPaths):
// the parts of /proc and /sys that describe or reconfigure the host.
#pragma once

#include <string>
#include <vector>

/// docker's masked paths: host memory (/proc/kcore), kernel keys, timers
/// and scheduler internals that leak addresses, firmware tables, power
/// capping (the RAPL energy counters of CVE-2020-8694, "Platypus").
const std::vector<std::string>& default_masked_paths();

/// docker's read-only paths: every /proc file that writes a kernel setting
/// (/proc/sys: core_pattern, modprobe, …; /proc/sysrq-trigger) or a
/// device's state (/proc/bus, /proc/fs, /proc/irq).
const std::vector<std::string>& default_readonly_paths();

/// Child, after /proc and /sys are mounted and the root is the container's:
/// /dev/null bind-mounted over each file, an empty read-only tmpfs over each
/// directory.  A path that does not exist is skipped (kernels differ).
void mask_paths(const std::vector<std::string>& paths);

/// Child, after mask_paths: each path bind-mounted onto itself and made
/// read-only (mount_setattr, submounts included, other flags kept).  "/sys"
/// is read-only from its mount already (mount_system_dirs) and skipped.
void make_paths_readonly(const std::vector<std::string>& paths);
