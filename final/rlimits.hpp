/// @file rlimits.hpp
/// Resource limits of the container's process (setrlimit(2), `--ulimit`)
/// and its OOM score adjustment (`--oom-score-adj`, /proc/self/oom_score_adj):
/// OCI process.rlimits and process.oomScoreAdj, from the CLI or config.json.
#pragma once

#include "spec.hpp"

#include <string>

/// docker's `--ulimit NAME=SOFT[:HARD]` (nofile, nproc, core, …; -1 or
/// "unlimited": no limit; no HARD: the same as SOFT) as an OCI rlimit.
/// Throws nsrun::Error (125) naming the value.
Rlimit parse_ulimit(const std::string& text);

/// Before anything is made: every rlimit names a resource this kernel
/// knows and has soft <= hard; oom_score_adj is in -1000…1000.
void check_process_limits(const Process& process);

/// In the child, while it still has every capability (raising a hard limit
/// or lowering the OOM score needs CAP_SYS_RESOURCE): each rlimit with
/// prlimit(2), then the OOM score adjustment.
void apply_process_limits(const Process& process);
