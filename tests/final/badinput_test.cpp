// Bad input and faults: a clear error naming the problem, exit status 125,
// and nothing half-made — no state, no cgroup, no container started.
#include "fixture.hpp"

#include <fstream>
#include <unistd.h>

namespace lab {
namespace {

class BadInput : public NsrunTest {
protected:
    /// The run was refused before anything was made.
    void expect_refused(const Result& r, const std::string& mentions) {
        EXPECT_EQ(r.status, 125) << r;
        EXPECT_NE(r.err.find(mentions), std::string::npos) << "the message should name " << mentions << r;
        EXPECT_EQ(value(r.out, "pid"), "") << "the container must not start" << r;
        EXPECT_TRUE(state_ids().empty()) << "nothing may be created" << r;
    }
};

STEP_TEST(BadInput, UnknownContainerIs125ForEverySubcommand,
          "logs, stop, kill, wait, inspect, rm and exec of a container that does not exist fail with 125 and name it") {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"logs", "ghost"}, {"stop", "ghost"}, {"kill", "ghost"}, {"wait", "ghost"},
             {"inspect", "ghost"}, {"rm", "ghost"}, {"exec", "ghost", "true"}}) {
        const Result r = nsrun(args);
        EXPECT_EQ(r.status, 125) << args[0] << r;
        EXPECT_NE(r.err.find("ghost"), std::string::npos) << args[0] << ": the message names it" << r;
    }
}

STEP_TEST(BadInput, InvalidNamesAreRefusedBeforeAnythingIsCreated,
          "a --name with '/', '..', a leading '-' or '.', spaces, non-ASCII or more than 64 characters is refused with 125 before any state, cgroup, bridge or veth exists") {
    for (const auto& name : std::vector<std::string>{"a/b", "..", "../x", "/abs", "-dash", ".dot", "sp ace", "semi;colon", "ü",
                                   std::string(65, 'x')}) {
        const Result r = nsrun({"run", "--name", name, "--network", "bridge", "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 125) << "[" << name << "]" << r;
        EXPECT_EQ(value(r.out, "pid"), "") << r;
    }
    EXPECT_TRUE(state_ids().empty());
    EXPECT_EQ(host().links().size(), 1u) << "no bridge or veth was made for an invalid name";
}

STEP_TEST(BadInput, ADuplicateNameIsRefusedAndTheFirstIsUnharmed,
          "a second container with a name in use is refused with 125 and the first keeps running; the name is free again after rm") {
    const std::string first = detach({"--name", "twin", "--network", "none", "--", "sleep", "1000"});
    const Result r = nsrun({"run", "--name", "twin", "--network", "none", "--", "lab-probe", "pid"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find("twin"), std::string::npos) << r;
    EXPECT_EQ(value(r.out, "pid"), "") << r;
    EXPECT_EQ(state_ids().size(), 1u);
    EXPECT_EQ(status_of("twin"), "running");
    EXPECT_EQ(inspect("twin")["Id"], first);
    // The name of an exited container is still taken until it is removed.
    ASSERT_EQ(nsrun({"rm", "-f", "twin"}).status, 0);
    EXPECT_EQ(nsrun({"run", "--name", "twin", "--network", "none", "--", "true"}).status, 0);
}

STEP_TEST(BadInput, VolumePathsMustBeAbsoluteAndExist,
          "-v with a relative or missing host path is refused with 125, naming the path, before anything is created") {
    expect_refused(nsrun({"run", "--network", "none", "-v", "relative/dir:/data", "--", "lab-probe", "pid"}), "relative/dir");
    expect_refused(nsrun({"run", "--network", "none", "-v", "/no/such/dir:/data", "--", "lab-probe", "pid"}), "/no/such/dir");
}

STEP_TEST(BadInput, SubcommandsOnARemovedContainerAre125,
          "exec, stop, logs and rm of a container already removed fail with 125 and name it") {
    detach({"--name", "late", "--network", "none", "--", "true"});
    ASSERT_TRUE(wait_for_status("late", "exited"));
    ASSERT_EQ(nsrun({"rm", "late"}).status, 0);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"exec", "late", "true"}, {"stop", "late"}, {"logs", "late"}, {"rm", "late"}}) {
        const Result r = nsrun(args);
        EXPECT_EQ(r.status, 125) << args[0] << r;
        EXPECT_NE(r.err.find("late"), std::string::npos) << args[0] << r;
    }
}

STEP_TEST(BadInput, NetworkContainerNeedsARunningContainer,
          "--network container:NAME of a stopped or unknown container is refused with 125 and starts nothing") {
    ASSERT_EQ(nsrun({"run", "--name", "over", "--network", "none", "--", "true"}).status, 0);
    const Result stopped = nsrun({"run", "--network", "container:over", "--", "lab-probe", "pid"});
    EXPECT_EQ(stopped.status, 125) << stopped;
    EXPECT_NE(stopped.err.find("over"), std::string::npos) << stopped;
    EXPECT_EQ(value(stopped.out, "pid"), "") << stopped;
    const Result unknown = nsrun({"run", "--network", "container:nobody", "--", "lab-probe", "pid"});
    EXPECT_EQ(unknown.status, 125) << unknown;
    EXPECT_EQ(state_ids().size(), 1u) << "only the first container exists";
}

STEP_TEST(BadInput, NetworkContainerJoinsTheOthersNetwork,
          "--network container:NAME puts the new container in the other's network namespace, and only that one") {
    detach({"--name", "netowner", "--", "sleep", "1000"});
    const pid_t owner = inspect("netowner")["State"]["Pid"].get<pid_t>();
    detach({"--name", "joiner", "--network", "container:netowner", "--", "sleep", "1000"});
    const pid_t joined = inspect("joiner")["State"]["Pid"].get<pid_t>();
    EXPECT_EQ(namespace_of(joined, "net"), namespace_of(owner, "net"));
    EXPECT_NE(namespace_of(joined, "uts"), namespace_of(owner, "uts")) << "only the network is shared";
}

STEP_TEST(BadInput, AGarbledStateFileIsReportedAndReclaimable,
          "a garbled state.json is reported by ps and inspect (125, never a crash) and rm -f reclaims it") {
    const std::string id = detach({"--name", "garbled", "--network", "none", "--", "true"});
    ASSERT_TRUE(wait_for_status("garbled", "exited"));
    const std::string state = "/run/nsrun/containers/" + id + "/state.json";
    ASSERT_FALSE(host_file(state).empty()) << "the state is kept in " << state;
    ASSERT_EQ(host().sh("printf '{\"id\": \"" + id + "\", \"spec\": [tru' > " + state).status, 0);
    const Result ps = nsrun({"ps", "-a"});
    EXPECT_EQ(ps.status, 0) << "ps lists the others and reports this one" << ps;
    EXPECT_NE((ps.out + ps.err).find(id.substr(0, 12)), std::string::npos) << ps;
    const Result in = nsrun({"inspect", id});
    EXPECT_EQ(in.status, 125) << in;
    EXPECT_LT(in.status, 128) << "never a crash" << in;
    const Result rm = nsrun({"rm", "-f", id});
    EXPECT_EQ(rm.status, 0) << rm;
    EXPECT_TRUE(state_ids().empty());
}

STEP_TEST(BadInput, ATruncatedStateFileIsReclaimedByGc,
          "an empty state.json does not break ps, and gc reclaims the container's directory") {
    const std::string id = detach({"--name", "cut", "--network", "none", "--", "true"});
    ASSERT_TRUE(wait_for_status("cut", "exited"));
    ASSERT_EQ(host().sh(": > /run/nsrun/containers/" + id + "/state.json").status, 0);
    const Result ps = nsrun({"ps", "-a"});
    EXPECT_EQ(ps.status, 0) << ps;
    const Result gc = nsrun({"gc"});
    EXPECT_EQ(gc.status, 0) << gc;
    EXPECT_TRUE(state_ids().empty()) << gc;
}

STEP_TEST(BadInput, AHalfMadeContainerDirectoryIsReclaimedByTheNextRun,
          "a runtime killed between making its container's directory (.new-ID) and naming it leaves an unlocked "
          ".new-ID: the next plain run removes it (no gc needed); a .new-ID whose lock is held is left alone") {
    const std::string root = "/run/nsrun/containers";
    ASSERT_EQ(host().sh("mkdir -p " + root + "/.new-0123456789ab && : > " + root + "/.new-0123456789ab/lock").status, 0);
    // One being made right now: its maker holds the lock (flock in the background).
    ASSERT_EQ(host().sh("mkdir -p " + root + "/.new-ba9876543210 && : > " + root + "/.new-ba9876543210/lock").status, 0);
    // One process holds it and is killed by pid at the end (flock(1) would fork a child that keeps it).
    auto holder = host().spawn({"sh", "-c", "exec 9>>" + root + "/.new-ba9876543210/lock && flock 9 && exec sleep 30"});
    bool held = false;
    for (int i = 0; i < 100 && !held; ++i) {
        held = host().sh("flock -n " + root + "/.new-ba9876543210/lock true").status != 0;
        if (!held) ::usleep(50 * 1000);
    }
    ASSERT_TRUE(held) << "the background flock never took the lock";
    const Result run = nsrun({"run", "--rm", "--network", "none", "--", "true"});
    EXPECT_EQ(run.status, 0) << run;
    const Result left = host().sh("ls -A " + root);
    EXPECT_EQ(left.out.find(".new-0123456789ab"), std::string::npos) << "the unlocked leftover is removed" << left;
    EXPECT_NE(left.out.find(".new-ba9876543210"), std::string::npos) << "the locked one is being made: kept" << left;
    holder->signal(SIGKILL);
    holder->finish();
    EXPECT_EQ(nsrun({"gc"}).status, 0);
    EXPECT_EQ(host().sh("ls -A " + root).out, "") << "gc removes it once its maker is gone";
}

STEP_TEST(BadInput, TwoConcurrentRmOfTheSameContainer,
          "two rm -f of one container at once: one removes it, the other succeeds or says it is gone (125); everything of it is gone") {
    const std::string id = detach({"--name", "contested", "-p", "8097:80", "--", "sleep", "1000"});
    auto a = start({"rm", "-f", "contested"});
    auto b = start({"rm", "-f", "contested"});
    const Result ra = a->finish();
    const Result rb = b->finish();
    EXPECT_TRUE(ra.status == 0 || rb.status == 0) << ra << rb;
    for (const Result& r : {ra, rb}) {
        EXPECT_TRUE(r.status == 0 || r.status == 125) << "the loser says it is gone, never crashes" << r;
    }
    EXPECT_TRUE(state_ids().empty());
    EXPECT_TRUE(cgroups_of(id).empty());
    EXPECT_EQ(snapshot().ruleset.find("8097"), std::string::npos);
}

STEP_TEST(BadInput, UnknownSubcommandAndMissingCommandAre125,
          "an unknown subcommand, run without a command and an unknown flag fail with 125") {
    EXPECT_EQ(nsrun({"frobnicate"}).status, 125);
    EXPECT_EQ(nsrun({"run"}).status, 125);
    EXPECT_EQ(nsrun({"run", "--no-such-flag", "true"}).status, 125);
}

} // namespace
} // namespace lab
