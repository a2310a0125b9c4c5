/// @file process_end.hpp
/// The end of a short-lived process: what is left is memory, and the kernel
/// takes it back at exit.
///
/// When a foreground `nsrun run` has torn its container down, all it still
/// holds is memory: the spec (docker's seccomp profile alone is ~350
/// strings) in the engine's copies, the record, the command line's parser.
/// Returning that to malloc piece by piece on the way out is wasted work,
/// and dear work: every page those frees write to was shared with the
/// container's process at clone and is still write-protected, so each one
/// is a copy-on-write fault (tens of microseconds on a VM; ~20 of them at
/// the end of every `run`).  After nothing_more_to_free(), `operator delete`
/// returns nothing to malloc; the exit that follows frees every page at once.
/// Destructors still run (descriptors, locks and mounts are released as
/// before): only the memory is left in place.
#pragma once

namespace nsrun {

/// From now on `operator delete` does not free: call it only when the
/// process has nothing left to do but unwind and exit.
void nothing_more_to_free() noexcept;

} // namespace nsrun
