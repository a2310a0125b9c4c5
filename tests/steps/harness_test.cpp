// The grader's own checks: a failure report says what was run, what was
// expected and why; whatever a broken runtime leaves running is ended and
// reported; the closing count is right.  They grade deliberately broken
// fake runtimes (small shell scripts), running this very program
// (/proc/self/exe) as a learner's `make grade` would.
#include "harness.hpp"

#include "../needs_root.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/stat.h>
#include <unistd.h>

namespace lab {
namespace {

class Harness : public StepTest {
protected:
    void SetUp() override {
        char dir[] = "/tmp/nsrun-grader-XXXXXX";
        ASSERT_NE(::mkdtemp(dir), nullptr);
        dir_ = dir;
        ::chmod(dir, 0755); // a nested run as nobody must reach the fake runtimes
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// Writes an executable shell script, the fake runtime.
    std::string fake_runtime(const std::string& name, const std::string& body) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << "#!/bin/sh\n" << body;
        ::chmod(path.c_str(), 0755);
        return path;
    }

    /// Grades `bin` with this program, as `make grade` does, with `filter`.
    static Result grade(const std::string& bin, const std::string& filter,
                        std::optional<std::pair<uid_t, gid_t>> as_user = std::nullopt) {
        // Without CI=true, so that a skipped test is a skip, as on a learner's machine.
        const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
        Launch launch{{"env", "-u", "CI", self, "--bin=" + bin, "--gtest_filter=" + filter}, as_user};
        launch.plain_command = true;
        return run(launch, 120s);
    }

    std::string dir_;
};

STEP_TEST(Harness, AFailureSaysWhatRanWhatWasExpectedAndWhy,
          "A failed check prints the test's description, what was expected and why, the exact command line "
          "(shell-quoted), the exit status, stdout and stderr; no raw gtest expression.") {
    // A runtime that accepts anything and exits 0, silently.
    const std::string bin = fake_runtime("exits-0", "exit 0\n");
    const Result r = grade(bin, "Uts.EmptyHostnameIsRefusedWith125");
    expect_exit(r, 1, "the graded runtime fails a test, so the grader exits 1");
    expect_stdout_contains(r, "✗ EmptyHostnameIsRefusedWith125", "the failed test is marked");
    expect_stdout_contains(r, "what it checks: An empty --hostname is invalid", "the description is printed");
    expect_stdout_contains(r, "expected exit status 125: an empty hostname must be refused",
                           "the check says what it expected and why");
    expect_stdout_contains(r, "but exit status 0", "the check says what happened");
    expect_stdout_contains(r, "ran:    " + bin + " --hostname '' true", "the exact, shell-quoted command line");
    expect_stdout_contains(r, "stderr: (empty)", "the runtime's stderr is shown");
    expect_stdout_contains(r, "expected stderr to contain \"hostname\"", "the second check says what it wanted");
    expect_stdout_contains(r, "0 passed, 1 failed, 0 skipped", "the closing count");
    expect_stdout_contains(r, "--gtest_filter=Uts.EmptyHostnameIsRefusedWith125", "how to rerun the failed test");
    expect_stdout_lacks(r, "18446744073709551615", "no raw std::string::npos");
    expect_stdout_lacks(r, "Expected: (", "no raw gtest expression");
}

STEP_TEST(Harness, WhatARuntimeLeavesRunningIsKilledAndReported,
          "A broken runtime that backgrounds a sleep and exits: the grader reports the leftover process as a "
          "failure, with its command line, and kills it (checked by pid).") {
    // Answers --help well, but leaves a `sleep 60` behind and says its pid.
    const std::string pidfile = dir_ + "/sleep.pid";
    const std::string bin = fake_runtime(
        "leaks", "sleep 60 </dev/null >/dev/null 2>&1 &\necho $! > " + pidfile +
                     "\necho 'usage: leaks [--hostname NAME] [--explain] COMMAND'\nexit 0\n");
    const Result r = grade(bin, "Uts.HelpDescribesTheOptions");
    std::ifstream in(pidfile);
    pid_t leaked = 0;
    in >> leaked;
    REQUIRE(expect_true(leaked > 0, "the fake runtime to have written the pid of its sleep", "it did not", &r));
    expect_exit(r, 1, "leaving a process behind fails the test");
    expect_stdout_contains(r, "but it left 1 process running after the test", "the leftover is reported");
    expect_stdout_contains(r, "pid " + std::to_string(leaked) + ": sleep 60", "with its pid and command line");
    expect_true(!process_exists(leaked), "the leaked sleep (pid " + std::to_string(leaked) + ") to be gone",
                "it is still running", &r);
}

STEP_TEST(Harness, EndLeftoversKillsEveryStrayDescendant,
          "end_leftovers() finds a process a runtime left behind (re-parented to the tests, a child subreaper), "
          "names it, kills it and reaps it.") {
    Launch launch{{"sh", "-c", "sleep 60 </dev/null >/dev/null 2>&1 & echo $!"}, {}};
    launch.plain_command = true;
    const Result r = run(launch);
    const pid_t leaked = static_cast<pid_t>(std::atoi(r.out.c_str()));
    REQUIRE(expect_true(leaked > 0 && process_exists(leaked), "a background sleep left running by the shell",
                        "there is none", &r));
    const std::vector<Leftover> left = end_leftovers(0ms);
    REQUIRE(expect_true(left.size() == 1u, "exactly one leftover, the sleep",
                        std::to_string(left.size()) + " leftovers", &r));
    expect_true(left.front().pid == leaked && left.front().command == "sleep 60",
                "the leftover to be pid " + std::to_string(leaked) + ": sleep 60",
                "it is pid " + std::to_string(left.front().pid) + ": " + left.front().command, &r);
    expect_true(!process_exists(leaked), "the sleep to be killed and reaped", "it is still there", &r);
}

STEP_TEST(Harness, ALaunchIntoATakenOverThrowawayHostIsRefused,
          "A launch meant for a throwaway host whose holder pid is now a process on the machine's own network "
          "(here: a sleep the test starts on the machine) never runs: the harness refuses it (122), so a "
          "runtime under test cannot configure the machine's network that way, and the network guard may "
          "skip a process that launched only into throwaway hosts.") {
    NSRUN_REQUIRE_ROOT("enters namespaces (setns)");
    Launch on_the_machine{{"sleep", "30"}, {}};
    on_the_machine.plain_command = true;
    Runtime sleeper(on_the_machine);
    Launch launch{{"true"}, {}};
    launch.plain_command = true;
    launch.namespaces_of = sleeper.pid();
    const Result r = run(launch);
    expect_exit(r, 122, "the harness refuses to run anything in the machine's own network namespace");
    expect_stderr_contains(r, "the machine's own network namespace", "the refusal says why");
    sleeper.signal(SIGKILL);
    (void)sleeper.finish();
}

STEP_TEST(Harness, TheClosingCountIsRightWithoutRoot,
          "Run by a user who is not root, the tests that need root are skipped and counted once, the others "
          "(--help, bad options) run: the closing count adds up.") {
    // A runtime that prints a usage naming the options and refuses everything else.
    const std::string bin = fake_runtime(
        "refuses", "case \"$1\" in --help) echo 'usage: refuses [--hostname NAME] [--explain] COMMAND'; exit 0;; "
                   "esac\necho \"refuses: error: $1: no\" >&2\nexit 125\n");
    const Result r = grade(bin, "Uts.*", unprivileged_user());
    const std::regex closing(R"((-?\d+) passed, (-?\d+) failed, (-?\d+) skipped)");
    std::smatch m;
    REQUIRE(expect_true(std::regex_search(r.out, m, closing), "a closing line \"N passed, M failed, K skipped\"",
                        "there is none", &r));
    const int passed = std::stoi(m[1]), failed = std::stoi(m[2]), skipped = std::stoi(m[3]);
    expect_true(passed >= 0 && failed >= 0 && skipped >= 0, "no negative count", m[0].str(), &r);
    expect_true(skipped > 0, "the tests that need root skipped", m[0].str(), &r);
    expect_stdout_contains(r, "✓ HelpDescribesTheOptions", "--help needs no root: it runs and passes");
    expect_stdout_contains(r, "✓ UnknownFlagIs125WithAMessage", "a bad option needs no root: it runs");
    const auto listed = [&] {
        int n = 0;
        for (const std::string mark : {"  ✓ ", "  ✗ ", "  - "}) {
            for (auto at = r.out.find(mark); at != std::string::npos; at = r.out.find(mark, at + 1)) ++n;
        }
        return n;
    }();
    expect_true(passed + failed + skipped == listed, "the counts to add up to the " + std::to_string(listed) +
                                                         " tests listed",
                m[0].str(), &r);
}

} // namespace
} // namespace lab
