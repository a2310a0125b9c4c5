/// @file monitor.hpp
/// run -d: the container's supervisor outlives the caller.  Like conmon, the
/// monitor is double-forked (the caller's child exits at once, so the monitor
/// is re-parented and never a zombie of the caller), in its own session
/// (setsid: no terminal's hang-up reaches it), a child subreaper (orphans of
/// the container are its own, not init's), and it is the container's parent:
/// it writes COMMAND's stdout/stderr to a log file, records the exit status
/// and the OOM flag, and tears everything down when the container ends.
#pragma once

#include "spec.hpp"

/// The client side of `run -d`: start the monitor, wait until the container
/// really started, print its id (0), or print the setup error (its status).
int run_detached(const ContainerSpec& spec);

/// The container's log file.
std::string log_path(const std::string& state_dir, const std::string& id);
