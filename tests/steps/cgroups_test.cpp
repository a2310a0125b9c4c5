// Step 05 — cgroups: the limits are applied (read back from the host's
// cgroupfs), they hold (OOM kill, fork storm, CPU quota), the container sees
// its cgroup as "/", bad values are refused, and the container's cgroup is
// removed on every exit path.  Works on cgroup v1, hybrid and v2 hosts.
#include "cgroupfs.hpp"
#include "harness.hpp"
#include "netfixture.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <iterator>
#include <sstream>

namespace lab {
namespace {

class Cgroups : public KernelTest {};


/// A container that prints "ready" and then waits; SIGTERM or SIGINT ends it.
const std::vector<std::string> waiting_container = {
    "sh", "-c", "trap 'exit 0' TERM INT; echo ready; sleep 30 & wait"};

/// `sh -c`: print "ready", then wait until SIGUSR1 (which the runtime
/// forwards, step 02) runs `on_usr1`.  The test looks at the running
/// container and then signals: no fixed time in which it must have looked
/// (a loaded machine can take longer than any).
std::vector<std::string> ready_until_usr1(const std::string& on_usr1) {
    return {"sh", "-c", "trap '" + on_usr1 + "' USR1; echo ready; sleep 30 & wait"};
}

/// Start `args`, wait for "ready", return the container's cgroup directories.
std::vector<std::string> cgroup_dirs_when_ready(Runtime& rt) {
    if (!expect_output(rt, "ready", "the container's shell prints ready")) {
        return {};
    }
    const pid_t init = container_init(rt.pid());
    const Result running = rt.record();
    expect_true(init != 0, "the container's PID 1 under the runtime", "there is none", &running);
    const auto dirs = init ? own_cgroup_dirs(init) : std::vector<std::string>{};
    expect_true(!dirs.empty(), "the container in cgroups of its own (/proc/PID/cgroup differs from the host's)",
                "it is in the same cgroups as the tests", &running);
    return dirs;
}

void expect_all_removed(const std::vector<std::string>& dirs, const Result& r) {
    for (const auto& dir : dirs) {
        expect_true(!dir_exists(dir), "the container's cgroup " + dir + " removed after the run (rmdir)",
                    "it was left behind", &r);
    }
}

/// A cgroup file seen from the host holds `expected`.
bool expect_file(const std::string& path, const std::string& expected, std::string_view why, const Result& r,
                 Where where = Where::current()) {
    const std::string got = read_trimmed(path);
    return expect_true(got == expected, path + " to read \"" + expected + "\": " + std::string(why),
                       got.empty() ? "it is empty or missing" : "it reads \"" + got + "\"", &r, where);
}

STEP_TEST(Cgroups, ContainerHasItsOwnCgroupForEachController,
          "With limits, the container's PID 1 is in a cgroup of its own for memory, cpu and pids (seen from the "
          "host in /proc/PID/cgroup), not in the tests' cgroups.") {
    std::vector<std::string> args{"-m", "64m", "--pids-limit", "50", "--cpus", "1"};
    for (const auto& word : ready_until_usr1("exit 0")) args.push_back(word);
    Runtime rt(args);
    const auto dirs = cgroup_dirs_when_ready(rt);
    const pid_t init = container_init(rt.pid());
    REQUIRE(init != 0);
    const Result running = rt.record();
    for (const char* controller : {"memory", "cpu", "pids"}) {
        const std::string dir = cgroup_dir_of(init, controller);
        expect_true(!dir.empty(), std::string("the container in a ") + controller + " cgroup",
                    "/proc/PID/cgroup names none", &running);
        expect_true(cgroup_dir_of(::getpid(), controller) != dir,
                    std::string("the container in a ") + controller + " cgroup of its own",
                    "it shares the tests' " + dir, &running);
        expect_true(dir_exists(dir), "its cgroup directory " + dir + " to exist on the host", "it does not",
                    &running);
    }
    rt.signal(SIGUSR1);
    const Result r = rt.finish();
    expect_exit(r, 0, "the container's shell exits 0");
}

STEP_TEST(Cgroups, LimitsAreReadBackFromTheHostSide,
          "The limits asked for are written to the container's cgroup: memory, CPU quota and weight, pids, read "
          "back from the host's cgroupfs (v1 or v2 file names).") {
    std::vector<std::string> args{"--memory", "64m", "--cpus", "0.5", "--cpu-weight", "200", "--pids-limit", "42"};
    for (const auto& word : ready_until_usr1("exit 0")) args.push_back(word);
    Runtime rt(args);
    REQUIRE(expect_output(rt, "ready", "the container's shell prints ready"));
    const pid_t init = container_init(rt.pid());
    const Result running = rt.record();
    REQUIRE(expect_true(init != 0, "the container's PID 1 under the runtime", "there is none", &running));
    const std::string memory = cgroup_dir_of(init, "memory");
    const std::string cpu = cgroup_dir_of(init, "cpu");
    const std::string pids = cgroup_dir_of(init, "pids");
    expect_file(pids + "/pids.max", "42", "--pids-limit 42", running);
    if (dir_exists(memory) && read_trimmed(memory + "/memory.max").empty()) {
        // cgroup v1
        expect_file(memory + "/memory.limit_in_bytes", "67108864", "--memory 64m is 64 MiB", running);
        expect_file(cpu + "/cpu.cfs_quota_us", "50000", "--cpus 0.5 is 50 ms per 100 ms period", running);
        expect_file(cpu + "/cpu.cfs_period_us", "100000", "the CFS period is 100 ms", running);
        expect_file(cpu + "/cpu.shares", "2048", "--cpu-weight 200 is shares 200*1024/100", running);
    } else {
        expect_file(memory + "/memory.max", "67108864", "--memory 64m is 64 MiB", running);
        expect_file(cpu + "/cpu.max", "50000 100000", "--cpus 0.5 is 50 ms per 100 ms period", running);
        expect_file(cpu + "/cpu.weight", "200", "--cpu-weight 200", running);
    }
    rt.signal(SIGUSR1);
    const Result r = rt.finish();
    expect_exit(r, 0, "the container's shell exits 0");
}

STEP_TEST(Cgroups, InsideTheCgroupIsTheRoot,
          "In a cgroup namespace (CLONE_NEWCGROUP) the container sees its own cgroup as the root \"/\" in "
          "/proc/self/cgroup.") {
    const Result r = run({"-m", "64m", "lab-probe", "cgroup"});
    REQUIRE(expect_exit(r, 0, "lab-probe cgroup runs and exits 0 in the container"));
    const auto lines = values(r.out, "cgroup");
    REQUIRE(expect_true(!lines.empty(), "lab-probe to print the container's cgroups (cgroup= lines)",
                        "it prints none", &r));
    for (const auto& line : lines) {
        expect_true(line.ends_with(":/"), "every cgroup line inside to end in \":/\" (the cgroup namespace's root)",
                    "one is " + line, &r);
    }
}

STEP_TEST(Cgroups, InsideTheLimitsAreVisibleReadOnly,
          "Inside, /sys/fs/cgroup shows the container's own cgroup, with its limits, read-only.") {
    // The container's own cgroupfs view at /sys/fs/cgroup: its cgroup is the root.
    const Result r = run({"-m", "64m", "--pids-limit", "42", "sh", "-c",
                          "lab-probe limits; lab-probe writable /sys/fs/cgroup"});
    REQUIRE(expect_exit(r, 0, "the container's shell exits 0"));
    expect_value(r, "pids.max", "42", "the container's own pids.max is visible inside");
    const std::string key = value(r.out, "memory.max").empty() ? "memory.limit_in_bytes" : "memory.max";
    expect_value(r, key, "67108864", "the container's own memory limit is visible inside");
    expect_value(r, "writable", "0", "the limits must not be writable inside");
}

STEP_TEST(Cgroups, AllocatingTwiceTheLimitIsOomKilled,
          "A process allocating 128 MiB under --memory 64m is killed by the kernel's OOM killer: the runtime "
          "exits 137 and says it was out of memory.") {
    const Result r = run({"--memory", "64m", "lab-probe", "alloc", "128"});
    expect_exit(r, 137, "the OOM killer sends SIGKILL: 128+9");
    expect_stderr_contains(r, "container killed: out of memory (limit 64 MiB)",
                           "the runtime names the OOM kill and the limit");
    expect_value(r, "allocated", "", "the allocation must not complete");
}

STEP_TEST(Cgroups, AllocatingHalfTheLimitSucceeds,
          "Allocating 32 MiB under --memory 64m succeeds: the limit is not set too low.") {
    const Result r = run({"--memory", "64m", "lab-probe", "alloc", "32"});
    expect_exit(r, 0, "32 MiB fits in a 64 MiB limit");
    expect_value(r, "allocated", "32", "all 32 MiB were allocated");
    expect_stderr_lacks(r, "out of memory", "there was no OOM kill");
}

STEP_TEST(Cgroups, ForkStormStopsAtThePidsLimit,
          "Under --pids-limit 10 a fork storm stops at 10 processes: fork fails with EAGAIN.") {
    const Result r = run({"--pids-limit", "10", "lab-probe", "fork", "50", "5"});
    REQUIRE(expect_exit(r, 0, "lab-probe fork reports and exits 0"));
    const std::string forked = value(r.out, "forked");
    REQUIRE(expect_true(!forked.empty(), "lab-probe to report how many forks succeeded (forked=N)", "it does not",
                        &r));
    expect_true(std::stoi(forked) <= 10, "at most 10 processes under --pids-limit 10",
                "forked=" + forked + ": more processes than --pids-limit", &r);
    expect_value(r, "failed", "1", "a fork failed at the limit");
    expect_value(r, "errno", "EAGAIN", "fork fails with EAGAIN at the pids limit");
}

STEP_TEST(Cgroups, WithoutALimitTheForksSucceed,
          "Without --pids-limit, 20 forks succeed: no limit is set when none is asked for.") {
    const Result r = run({"lab-probe", "fork", "20", "0.5"});
    REQUIRE(expect_exit(r, 0, "lab-probe fork reports and exits 0"));
    expect_value(r, "forked", "20", "all 20 forks succeed without a limit");
}

/// CFS bandwidth control's own accounting in a cpu cgroup (cpu.stat): in how
/// many periods the group ran out of its quota and was stopped, and for how
/// long in all — v2 "nr_throttled"/"throttled_usec", v1 "nr_throttled"/
/// "throttled_time" (ns).  -1 where the file or the key is missing.
struct Throttling {
    long long periods = -1;   ///< nr_throttled
    long long usec = -1;      ///< throttled time, µs
};

Throttling throttling_in(const std::string& cpu_dir) {
    Throttling t;
    std::istringstream lines(read_trimmed(cpu_dir + "/cpu.stat"));
    for (std::string key, number; lines >> key >> number;) {
        if (key == "nr_throttled") t.periods = std::stoll(number);
        if (key == "throttled_usec") t.usec = std::stoll(number);
        if (key == "throttled_time") t.usec = std::stoll(number) / 1000;
    }
    return t;
}

/// The CPU quota as the kernel holds it for the cgroup: "20000 100000"
/// (v2 cpu.max, v1 cpu.cfs_quota_us and cpu.cfs_period_us), "max" for none.
std::string quota_in(const std::string& cpu_dir) {
    if (const std::string v2 = read_trimmed(cpu_dir + "/cpu.max"); !v2.empty()) {
        return v2.substr(0, v2.find(' ')) == "max" ? "max" : v2;
    }
    const std::string quota = read_trimmed(cpu_dir + "/cpu.cfs_quota_us");
    if (quota.empty() || quota == "-1") {
        return "max"; // no cpu controller here (v2 without +cpu), or no quota
    }
    return quota + " " + read_trimmed(cpu_dir + "/cpu.cfs_period_us");
}

/// Run a busy loop of `seconds` in the container (after "ready"), and read
/// its cpu cgroup's throttling from the host until it reaches `enough`
/// throttled periods or the loop ends.  The last reading, the cgroup and
/// the quota found there.
struct BusyLoop {
    std::string cpu_dir;
    std::string quota;
    Throttling seen;
    Result result;
};

BusyLoop watch_busy_loop(std::vector<std::string> flags, int seconds, long long enough) {
    BusyLoop loop;
    flags.insert(flags.end(), {"sh", "-c", "echo ready; exec lab-probe spin " + std::to_string(seconds)});
    Runtime rt(flags);
    if (!expect_output(rt, "ready", "the container's shell prints ready")) {
        loop.result = rt.finish();
        return loop;
    }
    const pid_t init = container_init(rt.pid());
    loop.cpu_dir = init ? cgroup_dir_of(init, "cpu") : "";
    loop.quota = loop.cpu_dir.empty() ? "" : quota_in(loop.cpu_dir);
    // Polled, not timed: the kernel's counters only grow, and the cgroup is
    // gone once the loop ends, so the last reading before that is the answer.
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 20);
         !loop.cpu_dir.empty() && std::chrono::steady_clock::now() < end;) {
        const Throttling now = throttling_in(loop.cpu_dir);
        if (now.periods < 0) break; // the cgroup is gone: the loop ended
        loop.seen = now;
        if (loop.seen.periods >= enough && loop.seen.usec > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    loop.result = rt.finish();
    return loop;
}

STEP_TEST(Cgroups, CpuQuotaThrottlesABusyLoop,
          "Under --cpus 0.05 the kernel throttles a busy loop: its cpu cgroup holds the quota (5 ms per 100 ms "
          "period) and CFS bandwidth control's own accounting, cpu.stat's nr_throttled and throttled time "
          "(v2 throttled_usec, v1 throttled_time), grows while it runs. The kernel's counters, not a stopwatch: "
          "a loaded machine cannot make this pass or fail.") {
    // 5 ms per period: even on a machine so busy that the loop gets only a
    // few percent of a CPU, it still uses up its quota in most periods.
    const BusyLoop loop = watch_busy_loop({"--cpus", "0.05"}, 3, 3);
    REQUIRE(expect_exit(loop.result, 0, "lab-probe spin reports and exits 0"));
    REQUIRE(expect_true(!loop.cpu_dir.empty() && loop.cpu_dir != cgroup_dir_of(::getpid(), "cpu"),
                        "the container in a cpu cgroup of its own", "it is in " + loop.cpu_dir, &loop.result));
    expect_true(loop.quota == "5000 100000", "the quota in " + loop.cpu_dir + " to be \"5000 100000\" (--cpus 0.05)",
                "it is \"" + loop.quota + "\"", &loop.result);
    expect_true(loop.seen.periods >= 3,
                "cpu.stat's nr_throttled in " + loop.cpu_dir + " to reach 3 while the loop runs: the kernel "
                "stopped it for using up its quota",
                "it is " + std::to_string(loop.seen.periods) + " (-1: no such counter)", &loop.result);
    expect_true(loop.seen.usec > 0, "cpu.stat's throttled time in " + loop.cpu_dir + " to grow above 0",
                "it is " + std::to_string(loop.seen.usec) + " µs", &loop.result);
}

STEP_TEST(Cgroups, WithoutCpusABusyLoopIsNeverThrottled,
          "Without --cpus no quota is set: the same busy loop, for 1 s, runs in a cpu cgroup with no quota (\"max\" "
          "/ -1) and cpu.stat's nr_throttled stays 0, or in no cpu cgroup of its own at all.") {
    const BusyLoop loop = watch_busy_loop({"--pids-limit", "50"}, 1, 1);
    REQUIRE(expect_exit(loop.result, 0, "lab-probe spin reports and exits 0"));
    if (loop.cpu_dir.empty() || loop.cpu_dir == cgroup_dir_of(::getpid(), "cpu")) {
        return; // no cpu cgroup of its own: nothing could have set a quota
    }
    expect_true(loop.quota == "max", "no quota in " + loop.cpu_dir, "it is \"" + loop.quota + "\"", &loop.result);
    expect_true(loop.seen.periods <= 0, "nr_throttled in " + loop.cpu_dir + " to stay 0 without a quota",
                "it is " + std::to_string(loop.seen.periods), &loop.result);
}

STEP_TEST_ANY_USER(Cgroups, BadValuesAreRefusedWith125,
                   "Bad limit values (12q, 0, abc, -1, lots, 20000 …) are refused with 125 before anything "
                   "starts, and the message names the option.") {
    const std::vector<std::vector<std::string>> bad = {
        {"--memory", "12q"},    {"--memory", "0"},      {"-m", "abc"},
        {"--cpus", "-1"},       {"--cpus", "0"},        {"--cpus", "lots"},
        {"--pids-limit", "0"},  {"--pids-limit", "-5"}, {"--cpu-weight", "20000"},
        {"--cpu-weight", "0"},
    };
    for (const auto& flag : bad) {
        std::vector<std::string> args = flag;
        args.push_back("true");
        const Result r = run(args);
        expect_exit(r, 125, flag[0] + " " + flag[1] + " is not a valid value");
        const std::string name = flag[0] == "-m" ? "--memory" : flag[0];
        expect_stderr_contains(r, name, "the message names the option");
    }
}

STEP_TEST(Cgroups, ExplainNarratesTheCgroup,
          "--explain narrates the cgroup work: finding the cgroup layout (statfs), moving the container into its "
          "cgroup (cgroup.procs), the cgroup namespace (CLONE_NEWCGROUP) and removing the cgroup (rmdir).") {
    const Result r = run({"--explain", "-m", "64m", "--pids-limit", "20", "true"});
    REQUIRE(expect_exit(r, 0, "--explain does not change what runs"));
    expect_narrated(r, R"(\bstatfs\(|mountinfo|/proc/mounts)", "finding out which cgroup layout the machine has",
                    "`statfs(\"/sys/fs/cgroup\") = 0 (f_type=0x63677270)`");
    expect_narrated(r, R"(cgroup\.procs|CLONE_INTO_CGROUP)", "moving the container into its cgroup",
                    "`write(\"/sys/fs/cgroup/nsrun/ID/cgroup.procs\", \"4242\") = 4` or clone3 with "
                    "CLONE_INTO_CGROUP");
    expect_narrated(r, R"((\bclone3?|\bunshare)\(.*CLONE_NEWCGROUP)", "the new cgroup namespace",
                    "`unshare(CLONE_NEWCGROUP) = 0`");
    expect_narrated(r, R"(\brmdir\()", "removing the container's cgroup",
                    "`rmdir(\"/sys/fs/cgroup/nsrun/ID\") = 0`");
}

namespace {

/// On `machine`, where no cgroup can be had: a run without limit flags
/// works, without one, and says so in one line; a limit flag is a 125 whose
/// message holds `why` (`why_meaning`: what that shows).
void expect_runs_without_a_cgroup(const Namespaces& machine, const std::string& why, const std::string& why_meaning) {
    const Result r = machine.run({"lab-probe", "fork", "20", "0.5"});
    REQUIRE(expect_exit(r, 0, "without a limit flag the container runs, without a cgroup"));
    expect_value(r, "forked", "20", "the container runs normally");
    expect_stderr_contains(r, "note: running without a cgroup", "the runtime says it runs without a cgroup");
    expect_true(std::count(r.err.begin(), r.err.end(), '\n') == 1, "exactly one line on stderr",
                "there are " + std::to_string(std::count(r.err.begin(), r.err.end(), '\n')), &r);
    const Result limited = machine.run({"--pids-limit", "10", "true"});
    expect_exit(limited, 125, "a limit cannot be honoured without a cgroup");
    expect_stderr_contains(limited, why, why_meaning);
}

} // namespace

STEP_TEST(Cgroups, WithoutACgroupToUseItRunsUnlimitedAndSaysSo,
          "On a machine with no cgroup the runtime can use (inside a container, WSL2; here a throwaway host whose "
          "/sys/fs/cgroup is empty) a run without limit flags works and says so in one line, and a limit flag is "
          "a 125 that says what is missing.") {
    const Namespaces machine{Namespaces::Cgroups::none};
    expect_runs_without_a_cgroup(machine, "/sys/fs/cgroup", "the message says where the cgroup is missing");
}

STEP_TEST(Cgroups, WithReadOnlyCgroupsItRunsUnlimitedAndSaysSo,
          "Where the cgroup filesystems are there but read-only (docker mounts them so into a container; here "
          "a throwaway host's copies of them), no cgroup can be made: a run without limit flags works without one "
          "and says so in one line; a limit flag is a 125 that says why.") {
    const Namespaces machine{Namespaces::Cgroups::read_only};
    expect_runs_without_a_cgroup(machine, "Read-only file system", "the message says why the cgroup could not be made");
}

// --- the cgroup is removed on every exit path ------------------------------

STEP_TEST(Cgroups, RemovedAfterANormalExit,
          "The container's cgroup is removed when its command exits normally.") {
    std::vector<std::string> args{"-m", "64m"};
    for (const auto& word : ready_until_usr1("exit 3")) args.push_back(word);
    Runtime rt(args);
    const auto dirs = cgroup_dirs_when_ready(rt);
    REQUIRE(!dirs.empty());
    rt.signal(SIGUSR1);
    const Result r = rt.finish();
    expect_exit(r, 3, "the container exits 3, and the runtime passes that on");
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, RemovedWhenTheContainerIsKilledByASignal,
          "The container's cgroup is removed when its PID 1 is killed by SIGKILL, and a plain SIGKILL is not "
          "reported as an OOM kill.") {
    Runtime rt({"--pids-limit", "20", "sh", "-c", "echo ready; exec sleep 30"});
    const auto dirs = cgroup_dirs_when_ready(rt);
    REQUIRE(!dirs.empty());
    const Result running = rt.record();
    REQUIRE(expect_true(::kill(container_init(rt.pid()), SIGKILL) == 0, "to be able to SIGKILL the container",
                        "kill() failed", &running));
    const Result r = rt.finish();
    expect_exit(r, 137, "the container was killed by SIGKILL: 128+9");
    expect_stderr_lacks(r, "out of memory", "a plain SIGKILL is not an OOM kill");
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, RemovedAfterAnOomKill,
          "The container's cgroup is removed after an OOM kill too, and the OOM kill is named.") {
    std::vector<std::string> args{"-m", "64m"};
    for (const auto& word : ready_until_usr1("exec lab-probe alloc 256")) args.push_back(word);
    Runtime rt(args);
    const auto dirs = cgroup_dirs_when_ready(rt);
    REQUIRE(!dirs.empty());
    rt.signal(SIGUSR1);
    const Result r = rt.finish();
    expect_exit(r, 137, "the OOM killer sends SIGKILL: 128+9");
    expect_stderr_contains(r, "out of memory", "the runtime names the OOM kill");
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, RemovedWhenTheRuntimeGetsSigterm,
          "SIGTERM to the runtime ends the container (forwarded) and the runtime still removes its cgroup.") {
    Runtime rt(waiting_container);
    const auto dirs = cgroup_dirs_when_ready(rt);
    REQUIRE(!dirs.empty());
    rt.signal(SIGTERM);
    const Result r = rt.finish(15s);
    expect_true(!r.timed_out, "the runtime to end within 15 s of SIGTERM", "it was still running", &r);
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, RemovedWhenTheRuntimeGetsSigint,
          "SIGINT (Ctrl-C) to the runtime ends the container and the runtime still removes its cgroup.") {
    Runtime rt(waiting_container);
    const auto dirs = cgroup_dirs_when_ready(rt);
    REQUIRE(!dirs.empty());
    rt.signal(SIGINT);
    const Result r = rt.finish(15s);
    expect_true(!r.timed_out, "the runtime to end within 15 s of SIGINT", "it was still running", &r);
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, ACgroupLeftByAKilledRuntimeIsCollectedByTheNextRun,
          "A runtime killed by SIGKILL cannot clean up; the empty cgroup it leaves is removed by a later run once "
          "it is older than any setup takes (a minute).") {
    // SIGKILL to the runtime itself: nothing can clean up in-process (the
    // container dies with it, PR_SET_PDEATHSIG), and its cgroup stays ...
    std::vector<std::string> dirs;
    {
        Runtime rt({"sh", "-c", "echo ready; exec sleep 30"});
        dirs = cgroup_dirs_when_ready(rt);
        REQUIRE(!dirs.empty());
        const auto inside = descendants(rt.pid());
        rt.signal(SIGKILL);
        rt.finish();
        for (int i = 0; i < 100 && std::any_of(inside.begin(), inside.end(), process_exists); ++i) {
            std::this_thread::sleep_for(50ms);
        }
    }
    // ... until a later run finds it empty and older than any setup takes
    // (a minute; the test ages it instead of waiting).
    for (const auto& dir : dirs) {
        if (!dir_exists(dir)) continue;
        const timespec old[2] = {{::time(nullptr) - 120, 0}, {::time(nullptr) - 120, 0}};
        REQUIRE(expect_true(::utimensat(AT_FDCWD, dir.c_str(), old, 0) == 0, "to age the cgroup " + dir,
                            "utimensat failed"));
    }
    const Result r = run({"true"});
    expect_exit(r, 0, "the next run works");
    expect_all_removed(dirs, r);
}

STEP_TEST(Cgroups, RemovedWhenTheCommandCannotStart,
          "When COMMAND is not found (127) the cgroup made for it (named nsrun/ID in --explain) is removed too.") {
    // The cgroup exists before the exec fails: --explain names it.
    const Result r = run({"--explain", "-m", "64m", unique("no-such-command")});
    expect_exit(r, 127, "COMMAND was not found");
    const auto at = r.err.find("nsrun/");
    REQUIRE(expect_true(at != std::string::npos, "--explain to name the container's cgroup, nsrun/ID",
                        "no stderr line mentions nsrun/", &r));
    const std::string id = r.err.substr(at + 6, r.err.find_first_of(" )\"\n", at + 6) - at - 6);
    REQUIRE(expect_true(!id.empty(), "a container id after nsrun/", "it is empty", &r));
    expect_true(cgroup_dirs_named(id).empty(), "the cgroup " + id + " removed after the failed start",
                "it was left behind", &r);
}

} // namespace
} // namespace lab
