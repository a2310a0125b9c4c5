// The container: everything the command line asked for, and how to run it.
#pragma once

#include "bridge.hpp"
#include "cgroups.hpp"
#include "netns.hpp"
#include "rootfs.hpp"
#include "userns.hpp"
#include "uts.hpp"

#include <nsrun/cli.hpp>

/// All options of this step, one member per primitive.
struct Options {
    nsrun::cli::Command command;
    UtsOptions uts;
    RootfsOptions rootfs;
    CgroupOptions cgroups;
    UsernsOptions userns;
    NetnsOptions netns;
    BridgeOptions bridge;
    std::string state_dir = "/run/nsrun"; ///< --state-dir: the runtime's records on the host
};

/// Create the container, run COMMAND in it, and return the exit status the
/// runtime should exit with (COMMAND's own, or 125/126/127/128+N).
int run_container(const Options& options);
