// Seccomp (man 2 seccomp): a BPF program the kernel runs on every system
// call of the container, built and loaded with libseccomp from an OCI
// linux.seccomp profile (docker's default one, or a file).
#pragma once

#include "spec.hpp"

#include <string>
#include <vector>

/// docker's default profile for a container whose bounding set is `caps`
/// (seccomp_profile.cpp): an EPERM-by-default allowlist; the calls docker
/// gates on a capability are allowed when the container holds it.
Seccomp default_seccomp_profile(const std::vector<std::string>& caps);

/// This machine's architecture and the ones it also runs (x86_64: x86 and
/// x32), as OCI names ("SCMP_ARCH_X86_64").
std::vector<std::string> native_architectures();

/// A profile file's text — OCI's linux.seccomp, or docker's format (with
/// archMap and per-rule includes/excludes of capabilities, architectures and
/// minimum kernel, evaluated here for `caps`).  Throws nsrun::Error (125)
/// naming `file` for malformed JSON, an unknown action, operator or
/// architecture, or a system call libseccomp does not know.
Seccomp parse_seccomp_profile(const std::string& text, const std::string& file, const std::vector<std::string>& caps);

/// Compiling a profile is most of the CPU a container start spends in user
/// space (libseccomp builds and sorts its rule database, then generates the
/// BPF for three architectures: ~10 ms for docker's default profile).  So
/// the runtime compiles it once per profile: prepare_seccomp(), called by the
/// parent before clone, reads the program from `cache_dir` (a file named by
/// the sha256 of the profile and libseccomp's version) or compiles it and
/// writes it there; the child, a copy of the parent's memory, then loads it
/// with load_seccomp() without compiling.  A missing or unusable cache
/// directory only means compiling each time.
void prepare_seccomp(const Seccomp& profile, const std::string& cache_dir);

/// Load the filter of `profile` into the calling thread
/// (seccomp(SECCOMP_SET_MODE_FILTER), narrated): the program
/// prepare_seccomp() made for this profile, or compiled now.
void load_seccomp(const Seccomp& profile);

/// A profile compiled by libseccomp, not loaded yet.
class SeccompFilter {
public:
    /// Throws nsrun::Error (125) for anything libseccomp refuses.  `strict`:
    /// an unknown system call name is an error (a user's profile); otherwise
    /// skipped (the default profile, on an older libseccomp).
    SeccompFilter(const Seccomp& profile, bool strict);
    SeccompFilter(const SeccompFilter&) = delete;
    SeccompFilter& operator=(const SeccompFilter&) = delete;
    ~SeccompFilter();

    /// The BPF program (seccomp_export_bpf): struct sock_filter instructions.
    [[nodiscard]] std::string bpf() const;
    /// Load it into the calling thread (seccomp(SECCOMP_SET_MODE_FILTER)),
    /// narrated.  libseccomp's own no_new_privs is off: the caller decides.
    void load() const;
    /// What was compiled, for --explain: rule count, default, architectures.
    [[nodiscard]] const std::string& summary() const { return summary_; }

private:
    void* ctx_;
    std::string summary_;
};
