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
#include <source_location>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace lab {

using namespace std::chrono_literals;

/// What the test binary was told on its command line.
struct Config {
    std::vector<std::string> bin; ///< the runtime under test, with leading args
    std::string probe_dir;        ///< host directory holding lab-probe
    std::string rootfs;           ///< the lab rootfs (for --rootfs tests)
    /// --rootfs=DIR was given: the lab rootfs is elsewhere (e.g. under a home
    /// directory of mode 0750), and every launch of the runtime is given
    /// `--rootfs DIR` too, unless the test passes a --rootfs of its own.
    bool give_rootfs = false;
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

/// A finished (or, for Runtime::record(), a still running) run of the runtime.
struct Result {
    int status = -1;  ///< exit status (128+N if the runtime itself was killed by N)
    std::string out;  ///< stdout
    std::string err;  ///< stderr
    bool timed_out = false;
    /// The exact command line, shell-quoted so it can be pasted into a shell
    /// (with the PATH to lab-probe and the user it ran as, when they matter).
    std::string command;
    int signal = 0;       ///< the signal that ended the runtime itself, or 0
    bool running = false; ///< a snapshot of a runtime that has not ended yet
};

/// The run record printed with every failure: the command line, how it
/// ended, stdout and stderr (long output trimmed to its head and tail).
std::string describe_run(const Result& r);
/// gtest prints this on failure, so every assertion shows what the runtime said.
std::ostream& operator<<(std::ostream& os, const Result& r);

/// `word` quoted for sh when it needs it: `''`, `'a b'`, `'it'\''s'`.
std::string shell_quote(const std::string& word);

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
    /// The run so far (command line, output), for failure messages.
    [[nodiscard]] Result record() const;

private:
    void start(const Launch& launch);
    void pump(std::chrono::milliseconds budget);
    pid_t pid_ = -1;
    std::string command_;
    int out_fd_ = -1;
    int err_fd_ = -1;
    std::string out_, err_;
    std::optional<int> status_;
};

/// How many programs this test process has started in the machine's own
/// network namespace: every launch without `namespaces_of` (the runtime, or a
/// plain command), and every program a test forks itself and announces with
/// note_started_on_the_machine().  A launch into a throwaway host is not one:
/// the harness makes sure it entered a network namespace other than the
/// machine's.  While this count stays the same, nothing this process started
/// can have changed the machine's network, so the check that it is unchanged
/// (HostNetworkGuard, netfixture.cpp) has nothing to check.
unsigned started_on_the_machine();
/// Counts a program a test started in the machine's namespaces without the
/// harness (fork + exec of its own): the network guard then checks the
/// machine's network at the end, as for a launch through the harness.
void note_started_on_the_machine();

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
/// Whether a process with this pid exists (a zombie has ended: it does not).
bool process_exists(pid_t pid);
/// Those of `pids` still alive, as "pid 12 (sleep 60), pid 13 (sh -c …)", or "".
std::string still_alive(const std::vector<pid_t>& pids);
/// The host's mount table, raw: this process's, or under --throwaway-host
/// the throwaway host's (the runtime's host).
std::string host_mountinfo();
/// The host's hostname.
std::string host_hostname();

/// The uid/gid a test runs the runtime as when it checks what a user who is
/// not root gets: nobody (65534) when the tests run as root, else the
/// caller itself (nullopt: no change of user).
std::optional<std::pair<uid_t, gid_t>> unprivileged_user();
/// The uid that unprivileged_user() runs as.
uid_t unprivileged_uid();

// --- checks that explain themselves -------------------------------------------
//
// Each check records a failure that says in words what was expected and what
// happened, followed by the run record (describe_run), and returns whether it
// held.  `why` is the reason, in the learner's terms ("an empty hostname must
// be refused").  Use them as EXPECT (carry on) or, to stop the test at the
// first failure, as `REQUIRE(expect_exit(r, 0, "…"));`.
using Where = std::source_location;

/// Stop the test when a check failed (the failure is already recorded).
#define REQUIRE(check)                                                                                        \
    do {                                                                                                      \
        if (!(check)) return;                                                                                 \
    } while (0)

/// Records a failure: "expected …\n  but …" with the run record.
void fail(std::string_view expected, std::string_view actual, const Result* r = nullptr,
          Where where = Where::current());
/// A condition about the host or the container, seen from outside: on
/// failure "expected EXPECTED\n  but ACTUAL".
bool expect_true(bool holds, std::string_view expected, std::string_view actual, const Result* r = nullptr,
                 Where where = Where::current());
bool expect_exit(const Result& r, int status, std::string_view why, Where where = Where::current());
bool expect_stdout_contains(const Result& r, std::string_view text, std::string_view why,
                            Where where = Where::current());
bool expect_stderr_contains(const Result& r, std::string_view text, std::string_view why,
                            Where where = Where::current());
bool expect_stdout_lacks(const Result& r, std::string_view text, std::string_view why,
                         Where where = Where::current());
bool expect_stderr_lacks(const Result& r, std::string_view text, std::string_view why,
                         Where where = Where::current());
/// A `key=value` line of lab-probe (or the runtime) on stdout.
bool expect_value(const Result& r, const std::string& key, const std::string& expected, std::string_view why,
                  Where where = Where::current());
/// All `key=value` lines of `key`, in order.
bool expect_values(const Result& r, const std::string& key, const std::vector<std::string>& expected,
                   std::string_view why, Where where = Where::current());
/// Waits for `text` on the stdout of a runtime started in the background.
bool expect_output(Runtime& rt, const std::string& text, std::string_view why,
                   std::chrono::milliseconds timeout = 20s, Where where = Where::current());

/// The --explain contract (README, "The command-line contract"): the
/// narration is on stderr, one line per kernel-level action, shaped like
/// strace (`name(args) = result`).  Passes when a line of stderr matches
/// `pattern` (an ECMAScript regex searched in each line); `lesson` says
/// which action the line narrates and `shape` gives accepted examples.
bool expect_narrated(const Result& r, const std::string& pattern, std::string_view lesson, std::string_view shape,
                     Where where = Where::current());

// --- what a test checks, and why ---------------------------------------------

/// How a test is registered (STEP_TEST): its one-line description and
/// whether it needs root.
struct Description {
    std::string description;
    bool needs_root = true;
};
/// Registers a test's description (used by STEP_TEST; returns true).
bool describe(const char* suite, const char* name, const char* description, bool needs_root);
/// The registered description of "Suite.Name", or nullptr.
const Description* described(const std::string& suite, const std::string& name);

/// A step test with its one-line "what this checks and why", which the
/// report prints when it fails.  The fixture decides what it needs (root).
#define STEP_TEST(suite, name, description)                                                                  \
    [[maybe_unused]] static const bool lab_described_##suite##_##name =                                      \
        ::lab::describe(#suite, #name, description, true);                                                    \
    TEST_F(suite, name)
/// A step test that needs no root (--help, bad options, rootless runs): it
/// runs whoever runs the tests.
#define STEP_TEST_ANY_USER(suite, name, description)                                                         \
    [[maybe_unused]] static const bool lab_described_##suite##_##name =                                      \
        ::lab::describe(#suite, #name, description, false);                                                   \
    TEST_F(suite, name)

// --- nothing the runtime started outlives a test -----------------------------

/// A process left behind: its pid and command line.
struct Leftover {
    pid_t pid;
    std::string command;
};
/// Kills (SIGKILL) and reaps every process that descends from the test
/// process and belongs to no test any more: whatever a runtime under test
/// started and left running.  Waits up to `grace` for them to end on their
/// own first (the kernel tears a PID namespace down asynchronously).  The
/// test process is a child subreaper (main.cpp), so orphans come to us
/// instead of PID 1.
std::vector<Leftover> end_leftovers(std::chrono::milliseconds grace = 3s);
/// Become a child subreaper (prctl PR_SET_CHILD_SUBREAPER); main() calls it.
void become_subreaper();

/// Base of every step test: after each test, ends whatever the runtime left
/// running and reports it as a failure; fails a STEP_TEST without a
/// description.
class StepTest : public ::testing::Test {
protected:
    ~StepTest() override;
};

/// Base of every test that creates namespaces: needs root.  Skipped with a
/// reason when not root — except in CI (CI=true), where a skip would hide an
/// untested kernel feature, so it fails instead.  Tests registered with
/// STEP_TEST_ANY_USER run without root.
class KernelTest : public StepTest {
protected:
    void SetUp() override;
};

} // namespace lab
