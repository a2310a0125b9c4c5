// Supervision: whatever dies with SIGKILL — the monitor of a detached
// container, the foreground runtime, the runtime in the middle of setting a
// container up — nothing leaks: ps shows the container as not running, and
// rm/gc reclaim its cgroups, veth, lease, nft entries, mounts and state.
// Proved by comparing snapshots of the throwaway host (links, ruleset,
// state files, mounts) and the machine's cgroups before and after.
#include "fixture.hpp"

#include <csignal>
#include <random>
#include <thread>

namespace lab {
namespace {

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
