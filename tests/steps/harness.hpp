/// @file harness.hpp
/// @brief Black-box driver for the step binaries (and any other runtime).
///
/// The runtime under test is only ever used through its command-line
/// contract: `BIN [OPTIONS] [--] COMMAND [ARGS…]`.  BIN may be a path or a
/// command with leading arguments ("build/bin/nsrun run"), so the same tests
/// grade any implementation, in any language.  Inside containers the tests
/// run `lab-probe`, the static oracle from tests/probe, found through PATH
/// (the host's build/bin for steps without a rootfs, /usr/bin in the lab
/// rootfs).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace lab {

using namespace std::chrono_literals;

/// What the test binary was told on its command line.
struct Config {
    std::vector<std::string> bin; ///< the runtime under test, with leading args
    std::string probe_dir;        ///< host directory holding lab-probe
    std::string rootfs;           ///< the lab rootfs (for --rootfs tests)
    /// --throwaway-host: run every launch of the runtime inside one shared
    /// throwaway host (netfixture.hpp) instead of on the machine itself, so a
    /// runtime that configures networking (steps 07-09 create veths, a bridge,
    /// nft rules, sysctls) never touches the machine's own network.
    bool throwaway_host = false;
};
Config& config();

/// The pid of the throwaway host shared by all launches under
/// --throwaway-host (made on first use; defined in netfixture.cpp).
pid_t shared_throwaway_host();

/// A finished run of the runtime.
struct Result {
    int status = -1;  ///< exit status (128+N if the runtime itself was killed by N)
    std::string out;  ///< stdout
    std::string err;  ///< stderr
    bool timed_out = false;
};

/// gtest prints this on failure, so every assertion shows what the runtime said.
std::ostream& operator<<(std::ostream& os, const Result& r);

/// How to start the runtime.
struct Launch {
    std::vector<std::string> args; ///< runtime options and then COMMAND…
    std::optional<std::pair<uid_t, gid_t>> as_user; ///< drop to this uid/gid first
    /// Start inside the network and mount namespaces of this process (a
    /// throwaway host of netfixture.hpp) via setns(2); 0: stay where we are.
    pid_t namespaces_of = 0;
    /// `args` is a whole command (lab-probe, ip, nft, sh …), not options of
    /// the runtime under test: test helpers run their own programs this way.
    bool plain_command = false;
};

/// A runtime process the test started; killed (by pid) and reaped on destruction.
class Runtime {
public:
    explicit Runtime(const Launch& launch);
    explicit Runtime(std::vector<std::string> args) : Runtime(Launch{std::move(args), {}}) {}
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;
    ~Runtime();

    [[nodiscard]] pid_t pid() const { return pid_; }
    /// Read stdout until it contains `text` (true) or `timeout` passes / EOF (false).
    bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = 20s);
    /// Send a signal to the runtime process (never to anything else).
    void signal(int sig) const;
    /// Wait for the runtime to exit (SIGKILL after `timeout`) and collect its output.
    Result finish(std::chrono::milliseconds timeout = 30s);
    /// Output seen so far.
    [[nodiscard]] const std::string& out() const { return out_; }
    [[nodiscard]] const std::string& err() const { return err_; }

private:
    void start(const Launch& launch);
    void pump(std::chrono::milliseconds budget);
    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_, err_;
    std::optional<int> status_;
};

/// Run the runtime to completion.
Result run(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s);
Result run(const Launch& launch, std::chrono::milliseconds timeout = 30s);

/// `key=value` lines → all values of `key`.
std::vector<std::string> values(const std::string& output, const std::string& key);
/// The first value of `key`, or "" when absent.
std::string value(const std::string& output, const std::string& key);

/// A name no other test (in this or a parallel process) uses.
std::string unique(const std::string& prefix);

/// The host's view of a process: all pids in this process's namespace that
/// descend from `ancestor`.
std::vector<pid_t> descendants(pid_t ancestor);
/// The container's PID 1 as the host sees it: the descendant of the runtime
/// whose NSpid line (/proc/PID/status) ends in 1.  0 if there is none (yet).
pid_t container_init(pid_t runtime);
/// The direct children of `parent`.
std::vector<pid_t> children_of(pid_t parent);
/// A line of /proc/PID/status ("NSpid", "Uid", …) without its key, or "".
std::string proc_status(pid_t pid, const std::string& key);
/// readlink(/proc/PID/ns/NAME): "uts:[4026531838]", or "" if gone.
std::string namespace_of(pid_t pid, const std::string& name);
/// Whether a process with this pid exists.
bool process_exists(pid_t pid);
/// The host's mount table, raw: this process's, or under --throwaway-host
/// the throwaway host's (the runtime's host).
std::string host_mountinfo();
/// The host's hostname.
std::string host_hostname();

/// Base of every test that creates namespaces: needs root.  Skipped with a
/// reason when not root — except in CI (CI=true), where a skip would hide an
/// untested kernel feature, so it fails instead.
class KernelTest : public ::testing::Test {
protected:
    void SetUp() override;
};

} // namespace lab
