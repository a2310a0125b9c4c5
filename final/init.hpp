/// @file init.hpp
/// --init: a tiny PID 1 (like tini or docker-init).  A program that was not
/// written to be PID 1 neither reaps the orphans the kernel re-parents to it
/// nor gets the signals it has no handler for (man 7 pid_namespaces).  With
/// --init the container's PID 1 is this small loop instead: it runs COMMAND
/// as its child, forwards every signal to it, reaps every zombie, and exits
/// with COMMAND's status.
#pragma once

#include <nsrun/handshake.hpp>

#include <string>
#include <vector>

/// In the child, last step of setup: fork COMMAND (which execs and reports
/// an exec failure through `handshake`), then be its init until it ends.
[[noreturn]] void run_init(const std::vector<std::string>& argv, nsrun::Handshake& handshake);
