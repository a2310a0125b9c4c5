/// @file sealed_exe.hpp
/// CVE-2019-5736: the runtime's own binary must be out of a container's
/// reach.  A process that nsrun starts inside a container runs nsrun's image
/// until it execs COMMAND (an `--init` PID 1 never does), and an image whose
/// COMMAND is a script starting `#!/proc/self/exe` makes the kernel exec that
/// very image *as the container's process*: its /proc/PID/exe is then a
/// handle on the host's binary, which root in the container can reopen for
/// writing once no nsrun runs any more, and replace.  As runc does, `run`
/// and `exec` first re-execute themselves from a sealed in-memory copy
/// (memfd_create + F_SEAL_WRITE|SHRINK|GROW|SEAL + fexecve): whatever a
/// container reaches through /proc/PID/exe is that copy, which no one can
/// change.
///
/// `run` without `--init` does not need the whole copy: nsrun's code runs
/// inside only while the container's PID namespace holds nothing else, and
/// the last exec goes through a tiny sealed program instead (exec_step.hpp).
#pragma once

#include <nsrun/fd.hpp>

/// When /proc/self/exe is not a sealed memfd yet: copy it into one, seal it
/// and fexecve(argv) from it (does not return).  When it is: return.  A
/// failure is reported as a warning and nsrun goes on unsealed (the
/// container process is still made non-dumpable).
void run_from_sealed_copy(char** argv, bool narrate);

/// Keep nsrun's command line for a later run_from_sealed_copy() (`create`
/// decides only once config.json is read).
void remember_command_line(char** argv, bool narrate);
/// run_from_sealed_copy() with the remembered command line: nsrun starts
/// again from the top, from the sealed copy (nothing may have been made yet).
void run_from_sealed_copy();

/// memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_EXEC): an empty
/// in-memory file that may be executed once written and sealed.
nsrun::UniqueFd executable_memfd(const char* name);

/// Seal `memfd` for good (F_SEAL_SEAL|SHRINK|GROW|WRITE): nobody can change
/// it any more, through any descriptor or mapping.
void seal_memfd(int memfd);
