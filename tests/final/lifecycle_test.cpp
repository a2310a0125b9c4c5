// The docker-style lifecycle of nsrun: run -d under a monitor, ps, logs
// (-f, --timestamps), stop (SIGTERM, then SIGKILL after the timeout), kill,
// wait, inspect (JSON), rm, --rm and names.  Each fact is proved from the
// container's side (what it printed, how it ended) and from the host's
// (processes, namespaces, cgroups, state).
#include "fixture.hpp"

#include <csignal>
#include <fstream>
#include <regex>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lab {
namespace {

class Lifecycle : public NsrunTest {};

bool is_hex_id(const std::string& id) { return std::regex_match(id, std::regex("[0-9a-f]{12,64}")); }

// A container that says it is up, then waits for SIGTERM and exits 3.
const std::vector<std::string> polite = {"sh", "-c", "trap 'exit 3' TERM; echo up; sleep 1000 & wait"};
// A container whose PID 1 has no handler for SIGTERM: only SIGKILL ends it.
const std::vector<std::string> stubborn = {"sleep", "1000"};

/// Options, then a command.
std::vector<std::string> with(std::vector<std::string> options, const std::vector<std::string>& command) {
    options.insert(options.end(), command.begin(), command.end());
    return options;
}

STEP_TEST(Lifecycle, RunDetachedPrintsTheIdOfARunningContainer,
          "run -d returns the hex id of a container that is running: its PID 1 lives in its own namespaces and cgroup, parented by a monitor") {
    const std::string id = detach(with({"--name", "web", "--network", "none", "--"}, stubborn));
    EXPECT_TRUE(is_hex_id(id)) << "the id should be random hex, got [" << id << "]";
    // The host's view: a live PID 1 in its own namespaces.
    const auto j = inspect("web");
    ASSERT_FALSE(j.is_null());
    EXPECT_EQ(j["State"]["Status"], "running") << j.dump(2);
    EXPECT_EQ(j["Id"], id) << j.dump(2);
    const pid_t pid = j["State"]["Pid"].get<pid_t>();
    ASSERT_GT(pid, 0) << j.dump(2);
    EXPECT_TRUE(process_exists(pid));
    EXPECT_NE(namespace_of(pid, "pid"), namespace_of(::getpid(), "pid"));
    EXPECT_NE(namespace_of(pid, "mnt"), namespace_of(host().pid(), "mnt"));
    EXPECT_EQ(proc_status(pid, "NSpid").substr(proc_status(pid, "NSpid").rfind('\t') + 1), "1")
        << "the container's command is its PID 1";
    // The client has returned; the container's parent is the monitor, not it.
    EXPECT_NE(std::stoi(proc_status(pid, "PPid")), 0);
    EXPECT_FALSE(cgroups_of(id).empty()) << "a running container has its cgroup";
}

STEP_TEST(Lifecycle, PsListsRunningContainersAndAllWithA,
          "ps lists running containers with a header; -a adds exited ones with their status; -q prints ids only") {
    const std::string up = detach(with({"--name", "up", "--network", "none", "--"}, stubborn));
    ASSERT_EQ(nsrun({"run", "--name", "done", "--network", "none", "--", "true"}).status, 0);
    const Result ps = nsrun({"ps"});
    EXPECT_EQ(ps.status, 0) << ps;
    EXPECT_NE(ps.out.find("CONTAINER ID"), std::string::npos) << ps;
    EXPECT_NE(ps.out.find(up.substr(0, 12)), std::string::npos) << ps;
    EXPECT_NE(ps.out.find(" up "), std::string::npos) << ps;
    EXPECT_EQ(ps.out.find(" done "), std::string::npos) << "ps without -a lists running ones only" << ps;
    const Result all = nsrun({"ps", "-a"});
    EXPECT_NE(all.out.find(" done "), std::string::npos) << all;
    EXPECT_NE(all.out.find("Exited (0)"), std::string::npos) << all;
    const Result quiet = nsrun({"ps", "-a", "-q"});
    std::istringstream lines(quiet.out);
    std::vector<std::string> ids;
    for (std::string line; std::getline(lines, line);) ids.push_back(line);
    ASSERT_EQ(ids.size(), 2u) << quiet;
    EXPECT_TRUE(std::find(ids.begin(), ids.end(), up) != ids.end()) << quiet;
    for (const auto& id : ids) EXPECT_TRUE(is_hex_id(id)) << quiet;
}

STEP_TEST(Lifecycle, LogsShowWhatTheDetachedContainerPrinted,
          "logs shows what a detached container wrote to stdout and stderr; --timestamps prefixes RFC 3339 times") {
    detach({"--name", "talker", "--network", "none", "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2; lab-probe hostname"});
    ASSERT_TRUE(wait_for_status("talker", "exited"));
    const Result logs = nsrun({"logs", "talker"});
    EXPECT_EQ(logs.status, 0) << logs;
    EXPECT_NE(logs.out.find("to-stdout"), std::string::npos) << logs;
    EXPECT_NE((logs.out + logs.err).find("to-stderr"), std::string::npos) << logs;
    EXPECT_EQ(value(logs.out, "hostname"), "container") << "the probe ran inside" << logs;
    const Result stamped = nsrun({"logs", "--timestamps", "talker"});
    EXPECT_TRUE(std::regex_search(stamped.out, std::regex("(^|\n)[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z? to-stdout")))
        << "--timestamps puts an RFC 3339 time before each line" << stamped;
}

STEP_TEST(Lifecycle, LogsFollowShowsLinesAsTheyComeAndEndsWithTheContainer,
          "logs -f passes on lines as the container writes them and ends when the container does") {
    detach({"--name", "ticker", "--network", "none", "--", "sh", "-c",
            "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; sleep 1; echo last"});
    auto follow = start({"logs", "-f", "ticker"});
    ASSERT_TRUE(follow->wait_for_output("first")) << follow->out() << follow->err();
    EXPECT_EQ(follow->out().find("second"), std::string::npos);
    // Only now the container prints more: logs -f must pass it on live.
    const Result go = nsrun({"exec", "ticker", "touch", "/tmp/go"});
    ASSERT_EQ(go.status, 0) << go;
    EXPECT_TRUE(follow->wait_for_output("second")) << follow->out() << follow->err();
    const Result r = follow->finish(20s);
    EXPECT_FALSE(r.timed_out) << "logs -f should end when the container does" << r;
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find("last"), std::string::npos) << r;
}

STEP_TEST(Lifecycle, StopSendsSigtermFirst,
          "stop sends SIGTERM first: a container that traps it exits with its own status (3), not 137") {
    detach(with({"--name", "polite", "--network", "none", "--"}, polite));
    const Result stop = nsrun({"stop", "-t", "30", "polite"});
    EXPECT_EQ(stop.status, 0) << stop;
    const auto j = inspect("polite");
    EXPECT_EQ(j["State"]["Status"], "exited") << j.dump(2);
    EXPECT_EQ(j["State"]["ExitCode"], 3) << "the container's TERM trap ran: it exited 3, not killed" << j.dump(2);
}

STEP_TEST(Lifecycle, StopKillsWhatIgnoresSigtermAfterTheTimeout,
          "stop -t 1 of a PID 1 without a SIGTERM handler kills it after the timeout: exit code 137, its cgroup gone") {
    const std::string id = detach(with({"--name", "stubborn", "--network", "none", "--"}, stubborn));
    const pid_t pid = inspect("stubborn")["State"]["Pid"].get<pid_t>();
    const Result stop = nsrun({"stop", "-t", "1", "stubborn"});
    EXPECT_EQ(stop.status, 0) << stop;
    EXPECT_FALSE(stop.timed_out) << stop;
    const auto j = inspect("stubborn");
    EXPECT_EQ(j["State"]["Status"], "exited") << j.dump(2);
    EXPECT_EQ(j["State"]["ExitCode"], 137) << "killed by SIGKILL: 128+9" << j.dump(2);
    EXPECT_FALSE(process_exists(pid) && proc_status(pid, "State").find("Z") == std::string::npos);
    EXPECT_TRUE(cgroups_of(id).empty()) << "its cgroup goes when it ends";
}

STEP_TEST(Lifecycle, KillSendsTheSignalGiven,
          "kill -s USR1 delivers SIGUSR1 to the container; kill without -s sends SIGKILL (137)") {
    detach({"--name", "usr1", "--network", "none", "--", "sh", "-c", "trap 'exit 10' USR1; sleep 1000 & wait"});
    const Result kill = nsrun({"kill", "-s", "USR1", "usr1"});
    EXPECT_EQ(kill.status, 0) << kill;
    ASSERT_TRUE(wait_for_status("usr1", "exited"));
    EXPECT_EQ(inspect("usr1")["State"]["ExitCode"], 10);
    // Without -s: SIGKILL, as docker's.
    detach(with({"--name", "plain", "--network", "none", "--"}, polite));
    EXPECT_EQ(nsrun({"kill", "plain"}).status, 0);
    ASSERT_TRUE(wait_for_status("plain", "exited"));
    EXPECT_EQ(inspect("plain")["State"]["ExitCode"], 137);
}

STEP_TEST(Lifecycle, WaitBlocksUntilTheEndAndPrintsTheExitCode,
          "wait blocks until the container exits and prints its exit code; on an exited container it answers at once") {
    detach({"--name", "seven", "--network", "none", "--", "sh", "-c", "sleep 1; exit 7"});
    const Result wait = nsrun({"wait", "seven"});
    EXPECT_EQ(wait.status, 0) << wait;
    EXPECT_EQ(first_line(wait.out), "7") << wait;
    EXPECT_EQ(status_of("seven"), "exited");
    // A container that has ended already: wait answers at once.
    EXPECT_EQ(first_line(nsrun({"wait", "seven"}).out), "7");
}

STEP_TEST(Lifecycle, InspectShowsSpecStateAddressesAndPorts,
          "inspect prints JSON with the id, name, state, OOM flag, hostname, published port and the address eth0 really has") {
    detach({"--name", "full", "-p", "8080:80", "--hostname", "box", "--", "sh",
            "-c", "lab-probe net; sleep 1000"});
    ASSERT_TRUE(wait_for_status("full", "running"));
    const auto j = inspect("full");
    ASSERT_FALSE(j.is_null());
    const std::string text = j.dump();
    EXPECT_EQ(j["Name"], "full");
    EXPECT_EQ(j["State"]["Running"], true) << j.dump(2);
    EXPECT_EQ(j["State"]["OOMKilled"], false) << j.dump(2);
    EXPECT_NE(text.find("box"), std::string::npos) << "the spec's hostname" << j.dump(2);
    EXPECT_NE(text.find("8080"), std::string::npos) << "the published port" << j.dump(2);
    // The address inspect reports is the one the container has.
    std::string address;
    for (int i = 0; i < 100 && address.empty(); ++i) {
        address = probe_address(nsrun({"logs", "full"}).out, "eth0");
        if (address.empty()) std::this_thread::sleep_for(100ms);
    }
    ASSERT_FALSE(address.empty());
    EXPECT_NE(text.find(without_prefix(address)), std::string::npos) << address << j.dump(2);
}

STEP_TEST(Lifecycle, InspectRecordsAnOomKill,
          "a container killed by the OOM killer under -m shows OOMKilled true and exit code 137") {
    detach({"--name", "hog", "--network", "none", "-m", "16m", "--", "lab-probe", "alloc", "64"});
    ASSERT_TRUE(wait_for_status("hog", "exited"));
    const auto j = inspect("hog");
    EXPECT_EQ(j["State"]["OOMKilled"], true) << j.dump(2);
    EXPECT_EQ(j["State"]["ExitCode"], 137) << j.dump(2);
}

STEP_TEST(Lifecycle, RmRemovesEverythingOfTheContainer,
          "rm of an exited container removes its state, nft entries and mounts: inspect fails with 125 afterwards") {
    const HostSnapshot before = snapshot();
    const std::string id = detach({"--name", "gone", "-p", "8081:80", "--", "sh", "-c", "echo hi; exit 4"});
    ASSERT_TRUE(wait_for_status("gone", "exited"));
    EXPECT_TRUE(cgroups_of(id).empty());
    const Result rm = nsrun({"rm", "gone"});
    EXPECT_EQ(rm.status, 0) << rm;
    EXPECT_EQ(nsrun({"inspect", "gone"}).status, 125);
    EXPECT_EQ(nsrun({"ps", "-a", "-q"}).out, "");
    const HostSnapshot after = snapshot();
    EXPECT_EQ(after.state_files.count("/run/nsrun/containers/" + id), 0u) << after;
    EXPECT_EQ(after.mounts, before.mounts) << after;
    EXPECT_EQ(after.ruleset.find("8081"), std::string::npos) << after;
}

STEP_TEST(Lifecycle, RmOfARunningContainerNeedsForce,
          "rm of a running container is refused and leaves it running; rm -f kills it and removes its cgroups, veth, nft entries and state") {
    const std::string id = detach(with({"--name", "busy", "-p", "8082:80", "--"}, stubborn));
    const Result refused = nsrun({"rm", "busy"});
    EXPECT_NE(refused.status, 0) << refused;
    EXPECT_NE(refused.err.find("running"), std::string::npos) << "say why: it is running" << refused;
    EXPECT_EQ(status_of("busy"), "running") << "a refused rm leaves the container alone";
    const pid_t pid = inspect("busy")["State"]["Pid"].get<pid_t>();
    const std::string veths = host().exec({"ip", "-o", "link"}).out;
    const Result forced = nsrun({"rm", "-f", "busy"});
    EXPECT_EQ(forced.status, 0) << forced;
    EXPECT_FALSE(process_exists(pid) && proc_status(pid, "State").find("Z") == std::string::npos);
    EXPECT_TRUE(cgroups_of(id).empty());
    const HostSnapshot after = snapshot();
    EXPECT_EQ(after.ruleset.find("8082"), std::string::npos) << after;
    EXPECT_EQ(after.state_files.count("/run/nsrun/containers/" + id), 0u) << after;
    for (const auto& link : after.links) {
        EXPECT_TRUE(link == "lo" || link.find("nsrun") == 0 || veths.find(link) == std::string::npos ||
                    link.find(id.substr(0, 8)) == std::string::npos)
            << "the container's veth is left: " << link;
    }
}

STEP_TEST(Lifecycle, RunRmRemovesTheContainerWhenItExits,
          "run --rm returns the command's status and leaves no container behind") {
    const Result r = nsrun({"run", "--rm", "--name", "brief", "--network", "none", "--", "sh", "-c", "exit 5"});
    EXPECT_EQ(r.status, 5) << r;
    EXPECT_EQ(nsrun({"inspect", "brief"}).status, 125);
    EXPECT_TRUE(state_ids().empty());
}

STEP_TEST(Lifecycle, ForegroundRunIsListedWhileItRunsAndKeepsItsExitStatus,
          "a foreground run is listed by ps while it runs, can be stopped from another shell, and returns and records 137") {
    auto fg = start({"run", "--name", "fg", "--network", "none", "--", "sh", "-c", "echo ready; sleep 1000 & wait"});
    ASSERT_TRUE(fg->wait_for_output("ready")) << fg->out() << fg->err();
    EXPECT_EQ(status_of("fg"), "running");
    EXPECT_NE(nsrun({"ps"}).out.find(" fg "), std::string::npos);
    EXPECT_EQ(nsrun({"stop", "-t", "1", "fg"}).status, 0);
    const Result r = fg->finish();
    EXPECT_EQ(r.status, 137) << "foreground run returns the container's status" << r;
    EXPECT_EQ(inspect("fg")["State"]["ExitCode"], 137);
}

STEP_TEST(Lifecycle, ContainersAreFoundByNameIdAndIdPrefix,
          "a container is found by its name, its full id and a unique id prefix") {
    const std::string id = detach(with({"--name", "found", "--network", "none", "--"}, stubborn));
    ASSERT_TRUE(is_hex_id(id));
    EXPECT_EQ(inspect("found")["Id"], id);
    EXPECT_EQ(inspect(id)["Name"], "found");
    EXPECT_EQ(inspect(id.substr(0, 6))["Name"], "found");
}

STEP_TEST(Lifecycle, ValidNamesOfEveryShapeAreAccepted,
          "names of one character, with '.', '_' and '-', starting with a digit, and of 64 characters are accepted") {
    for (const auto& name : std::vector<std::string>{"a", "A.b_c-d", "9lives", std::string(64, 'x')}) {
        const Result r = nsrun({"run", "--name", name, "--network", "none", "--", "true"});
        EXPECT_EQ(r.status, 0) << name << r;
        EXPECT_EQ(inspect(name)["Name"], name);
    }
}

// --- CPUs ---------------------------------------------------------------------

/// This process's Cpus_allowed_list, as /proc shows it ("0-1").
std::string own_cpus() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with("Cpus_allowed_list:")) {
            return line.substr(line.find_first_not_of(" \t", 18));
        }
    }
    return "";
}

/// COMMAND's Cpus_allowed_list.
const std::vector<std::string> show_cpus = {"sh", "-c", "grep Cpus_allowed_list /proc/self/status | cut -f2"};

STEP_TEST(Lifecycle, CommandRunsOnExactlyTheCallersCpus,
          "the container's process may be set up on another CPU than the runtime's (or the monitor's), but "
          "COMMAND then runs on every CPU its caller may use, no fewer (Cpus_allowed_list inside equals the "
          "caller's)") {
    const Result r = nsrun(with({"run", "--network", "none", "--"}, show_cpus));
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(r.out, own_cpus() + "\n") << r;
    // Detached, the monitor is the one that places it.
    const std::string id = detach(with({"--name", "cpus", "--network", "none", "--"}, show_cpus));
    ASSERT_TRUE(is_hex_id(id)) << id;
    const Result waited = nsrun({"wait", "cpus"});
    ASSERT_EQ(waited.out, "0\n") << waited;
    const Result logs = nsrun({"logs", "cpus"});
    EXPECT_EQ(logs.out, own_cpus() + "\n") << logs;
}

/// A busy loop on each of this process's CPUs, each pinned to its CPU,
/// for as long as the object lives (then killed and reaped by pid).  A loop
/// also dies with this process (PR_SET_PDEATHSIG), should a timeout kill
/// the test before the destructor runs.
class BusyCpus {
public:
    BusyCpus() {
        cpu_set_t all;
        if (::sched_getaffinity(0, sizeof all, &all) != 0) {
            return;
        }
        const pid_t test = ::getpid();
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (!CPU_ISSET(cpu, &all)) {
                continue;
            }
            const pid_t pid = ::fork();
            if (pid == 0) {
                if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != test) {
                    ::_exit(1); // the test is gone already
                }
                cpu_set_t one;
                CPU_ZERO(&one);
                CPU_SET(cpu, &one);
                (void)::sched_setaffinity(0, sizeof one, &one);
                for (;;) {
                    asm volatile("" ::: "memory"); // spin: nothing the compiler may drop
                }
            }
            if (pid > 0) {
                pids_.push_back(pid);
            }
        }
    }
    BusyCpus(const BusyCpus&) = delete;
    BusyCpus& operator=(const BusyCpus&) = delete;
    ~BusyCpus() {
        for (const pid_t pid : pids_) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    [[nodiscard]] std::size_t count() const { return pids_.size(); }

private:
    std::vector<pid_t> pids_;
};

STEP_TEST(Lifecycle, WithEveryCpuBusyTheChildIsLeftWhereTheKernelPutsIt,
          "on a machine whose every CPU is busy, the container's process is not held on another CPU than the "
          "runtime's (it would wait there behind whatever runs): --explain says why, and COMMAND still runs on "
          "every CPU its caller may use") {
    const BusyCpus busy;
    ASSERT_GE(busy.count(), 1u);
    const Result r = nsrun(with({"run", "--explain", "--network", "none", "--"}, show_cpus));
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_NE(r.out.find(own_cpus() + "\n"), std::string::npos) << r;
    if (busy.count() > 1) { // with one CPU there is nowhere else to go, and nothing to look at
        EXPECT_NE(r.err.find("every CPU is busy"), std::string::npos) << r;
        EXPECT_NE(r.err.find("the child starts where the kernel puts it"), std::string::npos) << r;
        EXPECT_EQ(r.err.find("[parent] sched_setaffinity("), std::string::npos) << "the child was moved: " << r;
    }
}

STEP_TEST(Lifecycle, ACallerOnOneCpuKeepsItsContainerOnIt,
          "a runtime started on one CPU (taskset -c N) has no other CPU to set its container up on: COMMAND runs "
          "on that CPU alone") {
    cpu_set_t all;
    ASSERT_EQ(::sched_getaffinity(0, sizeof all, &all), 0);
    int last = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &all)) {
            last = cpu;
        }
    }
    ASSERT_GE(last, 0);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last, &one);
    ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
    const Result r = nsrun(with({"run", "--network", "none", "--"}, show_cpus));
    ASSERT_EQ(::sched_setaffinity(0, sizeof all, &all), 0);
    ASSERT_EQ(r.status, 0) << r;
    EXPECT_EQ(r.out, std::to_string(last) + "\n") << r;
}

} // namespace
} // namespace lab
