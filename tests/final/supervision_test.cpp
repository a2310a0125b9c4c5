// Supervision: whatever dies with SIGKILL — the monitor of a detached
// container, the foreground runtime, the runtime in the middle of setting a
// container up — nothing leaks: ps shows the container as not running, and
// rm/gc reclaim its cgroups, veth, lease, nft entries, mounts and state.
// Proved by comparing snapshots of the throwaway host (links, ruleset,
// state files, mounts) and the machine's cgroups before and after.
#include "fixture.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sys/prctl.h>
#include <thread>

namespace lab {
namespace {

namespace fs = std::filesystem;

class Supervision : public NsrunTest {
protected:
    void SetUp() override {
        NsrunTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // One complete container first: the shared things (bridge, nft
        // table, lease directory) exist from now on and belong to the baseline.
        const Result warm = nsrun({"run", "--rm", "-p", "8090:80", "--", "true"});
        ASSERT_EQ(warm.status, 0) << warm;
        baseline_ = snapshot();
    }

    /// gc, then the host must be as it was at the baseline, and no cgroup
    /// of `ids` may be left on the machine.
    void expect_reclaimed(const std::vector<std::string>& ids, const std::string& context) {
        const Result gc = nsrun({"gc"});
        EXPECT_EQ(gc.status, 0) << context << gc;
        const HostSnapshot after = snapshot();
        EXPECT_EQ(after, baseline_) << context << "\nbaseline:" << baseline_ << "\nafter gc:" << after;
        for (const auto& id : ids) {
            EXPECT_TRUE(cgroups_of(id).empty()) << context << ": cgroup of " << id << " left: " << cgroups_of(id)[0];
        }
        EXPECT_TRUE(state_ids().empty()) << context;
    }

    HostSnapshot baseline_;
};

STEP_TEST(Supervision, KillingTheMonitorLeaksNothing,
          "after SIGKILL of a detached container's monitor, ps no longer shows it running and rm -f reclaims its processes, cgroups, veth, lease, nft entries and state") {
    const std::string id = detach({"--name", "orphan", "-p", "8091:80", "--", "sleep", "1000"});
    const pid_t init = inspect("orphan")["State"]["Pid"].get<pid_t>();
    ASSERT_GT(init, 0);
    const pid_t monitor = std::stoi(proc_status(init, "PPid"));
    ASSERT_GT(monitor, 1) << "the container's parent is its monitor";
    ASSERT_EQ(::kill(monitor, SIGKILL), 0);
    // ps tells the truth: the container is no longer "running".
    bool not_running = false;
    for (int i = 0; i < 100 && !not_running; ++i) {
        const std::string s = status_of("orphan");
        not_running = s == "dead" || s == "exited";
        if (!not_running) std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(not_running) << inspect("orphan").dump(2);
    const Result ps = nsrun({"ps"});
    EXPECT_EQ(ps.out.find(" orphan "), std::string::npos) << "not listed as running" << ps;
    EXPECT_NE(nsrun({"ps", "-a"}).out.find(" orphan "), std::string::npos);
    // rm reclaims all of it; the container's processes are gone too.
    const Result rm = nsrun({"rm", "-f", "orphan"});
    EXPECT_EQ(rm.status, 0) << rm;
    EXPECT_FALSE(process_exists(init) && proc_status(init, "State").find('Z') == std::string::npos);
    expect_reclaimed({id}, "after killing the monitor and rm -f");
}

STEP_TEST(Supervision, GcReclaimsAContainerWhoseMonitorWasKilled,
          "after SIGKILL of the monitor, gc alone reclaims everything of the container") {
    const std::string id = detach({"--name", "orphan2", "-p", "8092:80", "--", "sleep", "1000"});
    const pid_t init = inspect("orphan2")["State"]["Pid"].get<pid_t>();
    ASSERT_GT(init, 0);
    ASSERT_EQ(::kill(std::stoi(proc_status(init, "PPid")), SIGKILL), 0);
    // No rm: gc alone finds it, ends what is left of it and reclaims it all.
    for (int i = 0; i < 50 && status_of("orphan2") == "running"; ++i) std::this_thread::sleep_for(100ms);
    expect_reclaimed({id}, "after killing the monitor and gc");
}

STEP_TEST(Supervision, KillingTheForegroundRuntimeLeaksNothing,
          "after SIGKILL of a foreground run, the container is not shown running and gc reclaims everything of it") {
    auto fg = start({"run", "--name", "fg", "-p", "8093:80", "--", "sh", "-c", "echo ready; sleep 1000"});
    ASSERT_TRUE(fg->wait_for_output("ready")) << fg->out() << fg->err();
    const std::vector<std::string> ids = state_ids();
    ASSERT_EQ(ids.size(), 1u);
    fg->signal(SIGKILL);
    fg->finish();
    const std::string s = status_of("fg");
    EXPECT_NE(s, "running") << "its supervisor is gone" << inspect("fg").dump(2);
    expect_reclaimed(ids, "after killing the foreground runtime");
}

STEP_TEST(Supervision, KillingTheRuntimeDuringSetupAtRandomMomentsLeaksNothing,
          "SIGKILL of the runtime at 30 random moments of its setup: each time rm -f and gc (or gc alone) leave the host as it was") {
    // How long one start takes here, to spread the kills over it.
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(nsrun({"run", "--rm", "-p", "8094:80", "--", "true"}).status, 0);
    const auto full = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    std::mt19937 random(static_cast<unsigned>(::getpid()));
    std::uniform_int_distribution<long> moment(0, full.count());
    std::vector<std::string> ids;
    for (int round = 0; round < 30; ++round) {
        auto rt = start({"run", "--name", "r" + std::to_string(round), "-p", "8095:80", "--", "sleep", "1000"});
        const auto delay = std::chrono::microseconds(moment(random));
        std::this_thread::sleep_for(delay);
        rt->signal(SIGKILL);
        rt->finish();
        const auto now = state_ids();
        ids.insert(ids.end(), now.begin(), now.end());
        // Whatever state it was left in, gc reclaims it (every other round
        // after an rm -f, which must cope with a half-made container too).
        for (const auto& id : round % 2 == 0 ? now : std::vector<std::string>{}) {
            const Result rm = nsrun({"rm", "-f", id});
            EXPECT_TRUE(rm.status == 0 || rm.status == 125) << rm;
        }
        expect_reclaimed(ids, "round " + std::to_string(round) + ": killed " + std::to_string(delay.count()) +
                                  " µs after the start (a whole start takes " + std::to_string(full.count()) + " µs)");
        if (HasFailure()) break;
    }
}

STEP_TEST(Supervision, ARuntimeKilledBeforeTheContainerIsTiedToItLeavesNothingRunning,
          "SIGKILL of the runtime between clone and the container's PR_SET_PDEATHSIG (the window held open with "
          "lab-fault): the container sees that its parent is gone and exits before any setup of its "
          "own (its --explain narration stops there), COMMAND never runs, gc reclaims the rest") {
    TempDir dir;
    const std::string mark = dir.path() + "/in-the-window", go = dir.path() + "/go", log = dir.path() + "/explain";
    // nsrun's stderr — and so the container's, until it execs — into a file
    // that can still be read after the runtime is gone.
    Launch launch{{"sh", "-c", "exec \"$@\" 2>" + log, "sh", NSRUN_LAB_FAULT, "--inject",
                   "prctl:arg0=" + std::to_string(PR_SET_PDEATHSIG) + ":mark=" + mark + ":wait=" + go, "--"},
                  {}};
    launch.args.insert(launch.args.end(), config().bin.begin(), config().bin.end());
    launch.args.insert(launch.args.end(), {"run", "--explain", "--name", "late", "-v", dir.path() + ":/out", "-p",
                                           "8097:80", "--", "sh", "-c", "touch /out/ran; sleep 1000"});
    launch.plain_command = true; // sh, lab-fault, then nsrun
    launch.namespaces_of = host().pid();
    Runtime rt(launch);
    const auto narrated = [&](const std::string& text) {
        std::ifstream in(log);
        return std::string(std::istreambuf_iterator<char>(in), {}).find(text) != std::string::npos;
    };
    bool released = false;
    for (int i = 0; i < 200 && !released; ++i) {
        released = fs::exists(mark) && narrated("releasing the child");
        if (!released) std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(fs::exists(mark)) << "the container never called prctl(PR_SET_PDEATHSIG)";
    ASSERT_TRUE(released) << "the runtime should have released the child (sent \"go\")";
    const std::vector<std::string> ids = state_ids();
    rt.signal(SIGKILL);
    const Result r = rt.finish(); // the runtime is dead and reaped: only now may the child go on
    std::ofstream{go};
    std::this_thread::sleep_for(2s); // time for the child to go on with its setup, and COMMAND, if it were to
    EXPECT_FALSE(fs::exists(dir.path() + "/ran")) << "COMMAND ran, with nobody supervising it" << r;
    EXPECT_FALSE(narrated("sethostname("))
        << "the container went on with its setup after its parent had died; its narration:\n"
        << [&] { std::ifstream in(log); return std::string(std::istreambuf_iterator<char>(in), {}); }();
    expect_reclaimed(ids, "after killing the runtime before the container was tied to it");
}

STEP_TEST(Supervision, AChildThatFailsWithGoUnreadReportsItsOwnError,
          "the container fails at a step it makes before it waits for \"go\" and exits with \"go\" unread, "
          "before the runtime reads its report (lab-fault: its sethostname fails with EPERM 200 ms late, and "
          "the runtime's first receive after it sent \"go\" waits 400 ms): run exits 125 with the child's own error, not a broken "
          "handshake (the kernel's one-time ECONNRESET); COMMAND never runs; gc finds nothing left") {
    const std::vector<std::string> ids = state_ids();
    Launch launch{{NSRUN_LAB_FAULT, "--inject", "sethostname:delay=200:errno=EPERM", "--inject",
                   "recvfrom:runtime:after-send=G:delay=400", "--"},
                  {}};
    launch.args.insert(launch.args.end(), config().bin.begin(), config().bin.end());
    launch.args.insert(launch.args.end(), {"run", "--rm", "--network", "none", "--", "sh", "-c", "echo command-ran"});
    launch.plain_command = true; // lab-fault, then nsrun
    launch.namespaces_of = host().pid();
    const Result r = lab::run(launch);
    ASSERT_NE(r.status, 0) << "the fault never fired: nsrun never called sethostname" << r;
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("sethostname"), std::string::npos) << "the child's own error" << r;
    EXPECT_EQ(r.err.find("handshake"), std::string::npos) << "not the handshake's" << r;
    EXPECT_EQ(r.out.find("command-ran"), std::string::npos) << r;
    expect_reclaimed(ids, "after a child that failed with \"go\" unread");
}

STEP_TEST(Supervision, ARuntimeKilledWhileTakingALeaseLeavesNoLeaseBehind,
          "SIGKILL of the runtime while it writes its bridge address's lease (the write held open with "
          "lab-fault): gc leaves the host as it was — no lease file is left that names no owner, which no "
          "sweep could reclaim and which would take that address for good") {
    TempDir dir;
    const std::string mark = dir.path() + "/in-the-window", go = dir.path() + "/go";
    Launch launch{{NSRUN_LAB_FAULT, "--inject",
                   "write:runtime:fd-path=/leases/:fd-path-not=/lock:mark=" + mark + ":wait=" + go, "--"},
                  {}};
    launch.args.insert(launch.args.end(), config().bin.begin(), config().bin.end());
    launch.args.insert(launch.args.end(), {"run", "--name", "leasing", "-p", "8098:80", "--", "sleep", "1000"});
    launch.plain_command = true; // lab-fault, then nsrun
    launch.namespaces_of = host().pid();
    Runtime rt(launch);
    for (int i = 0; i < 200 && !fs::exists(mark); ++i) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(fs::exists(mark)) << "the runtime never wrote a lease"
                                  << rt.record();
    const std::vector<std::string> ids = state_ids();
    rt.signal(SIGKILL);
    const Result r = rt.finish();
    std::ofstream{go};
    EXPECT_EQ(r.signal, SIGKILL) << r;
    expect_reclaimed(ids, "after killing the runtime in the middle of taking its lease");
}

STEP_TEST(Supervision, AContainerWhoseFirstRecordIsNotWrittenYetIsCreatingNotUnreadable,
          "while a run has made its container's directory but not yet saved its first record (that save comes "
          "after clone; here the runtime is held writing the container's /etc/hostname, before clone, with "
          "lab-fault): ps -a shows it as Creating, not as an unreadable leftover to reclaim, gc leaves it alone, "
          "and once released it runs and is gone") {
    TempDir dir;
    const std::string mark = dir.path() + "/in-the-window", go = dir.path() + "/go";
    Launch launch{{NSRUN_LAB_FAULT, "--inject", "write:runtime:fd-path=/hostname:mark=" + mark + ":wait=" + go, "--"},
                  {}};
    launch.args.insert(launch.args.end(), config().bin.begin(), config().bin.end());
    launch.args.insert(launch.args.end(), {"run", "--network", "none", "--", "echo", "it-ran"});
    launch.plain_command = true; // lab-fault, then nsrun
    launch.namespaces_of = host().pid();
    const std::vector<std::string> before = state_ids();
    Runtime rt(launch);
    for (int i = 0; i < 200 && !fs::exists(mark); ++i) {
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_TRUE(fs::exists(mark)) << "the runtime never wrote the container's hostname file" << rt.record();
    const Result ps = nsrun({"ps", "-a"});
    const Result gc = nsrun({"gc"});
    const Result ids = nsrun({"ps", "-aq"});
    std::ofstream{go};
    const Result r = rt.finish();
    EXPECT_EQ(ps.status, 0) << ps;
    EXPECT_NE(ps.out.find("Creating"), std::string::npos) << "the container being made" << ps;
    EXPECT_EQ(ps.out.find("Unreadable"), std::string::npos) << "not a leftover" << ps;
    EXPECT_EQ(gc.status, 0) << gc;
    EXPECT_NE(ids.out.size(), 0u) << "ps -aq lists it" << ids;
    EXPECT_EQ(r.status, 0) << "gc took nothing from it: it ran" << r;
    EXPECT_NE(r.out.find("it-ran"), std::string::npos) << r;
    EXPECT_EQ(state_ids(), before) << "a foreground run without --name leaves no record";
}

STEP_TEST(Supervision, GcRunningAlongsideNewContainersNeverTakesOne,
          "gc in a loop while containers are being made: none of them is taken for a crash's leftover (each "
          "starts, runs and keeps its record)") {
    const std::string bin = config().bin.front();
    Launch loop{{"sh", "-c", "while :; do '" + bin + "' gc >/dev/null 2>&1; done"}, {}};
    loop.plain_command = true;
    loop.namespaces_of = host().pid();
    Runtime gc_loop(loop);
    for (int i = 0; i < 20; ++i) {
        const Result r = nsrun({"run", "--name", "new" + std::to_string(i), "--network", "none", "--", "true"});
        EXPECT_EQ(r.status, 0) << "container " << i << " while gc runs" << r;
    }
    gc_loop.signal(SIGKILL);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(status_of("new" + std::to_string(i)), "exited") << "container " << i << " keeps its record";
    }
}

STEP_TEST(Supervision, GcLeavesRunningContainersAlone,
          "gc reclaims only what is dead: a running container keeps its state, cgroup and nft entries") {
    const std::string id = detach({"--name", "alive", "-p", "8096:80", "--", "sleep", "1000"});
    const Result gc = nsrun({"gc"});
    EXPECT_EQ(gc.status, 0) << gc;
    EXPECT_EQ(status_of("alive"), "running");
    EXPECT_FALSE(cgroups_of(id).empty());
    EXPECT_NE(snapshot().ruleset.find("8096"), std::string::npos);
}

} // namespace
} // namespace lab
