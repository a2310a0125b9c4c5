/// @file hooks.hpp
/// OCI hooks (config.json's hooks.*): programs the runtime runs at points of
/// the lifecycle, each with the container's state (runtime.md's JSON) on
/// its stdin.  A hook that fails — a non-zero exit, a signal, its timeout —
/// fails the operation it belongs to (but poststart and poststop, which
/// only warn: runtime.md).
#pragma once

#include "spec.hpp"

#include <string>
#include <vector>

/// Run `hooks` in order, `point` naming them in errors ("createRuntime").
/// `state` is written to each one's stdin.  Throws nsrun::Error (125) naming
/// the hook, its point and how it failed.
void run_hooks(const std::vector<Hook>& hooks, const std::string& point, const std::string& state);
