// containerd drives the runtime under test: a private containerd (its own
// config, root, state and socket under a scratch directory, in a throwaway
// host) and `ctr run --runc-binary RUNTIME`.  containerd's runc shim (v2)
// calls the runtime as it calls runc: create with a pid file, start, exec
// --process --detach, ps, pause/resume, kill, delete (--force), every call
// prefixed with `--root /run/containerd/runc/NAMESPACE --log BUNDLE/log.json
// --log-format json`.
#include "clients.hpp"

#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

namespace lab::oci {
namespace {

const std::string image = "lab:latest"; // rootfs/oci-archive.sh names it so (io.containerd.image.name)

/// A containerd of the test's own, stopped (SIGTERM, then SIGKILL) by pid at the end.
class PrivateContainerd : public PrivateInstance {
public:
    PrivateContainerd();
    ~PrivateContainerd();

    /// `ctr --address SOCK ARGS…` inside the throwaway host.
    [[nodiscard]] Result ctr(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) const {
        return host_->exec(ctr_argv(std::move(args)), timeout);
    }
    /// The same, in the background (an attached `ctr run`).
    [[nodiscard]] std::unique_ptr<Runtime> ctr_background(std::vector<std::string> args) const {
        return host_->spawn(ctr_argv(std::move(args)));
    }
    [[nodiscard]] std::vector<std::string> ctr_argv(std::vector<std::string> args) const {
        std::vector<std::string> argv{"ctr", "--address", dir / "containerd.sock"};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    /// `run OPTIONS… --runc-binary WRAPPER --cgroup PARENT/ID lab:latest ID CMD…`
    [[nodiscard]] std::vector<std::string> run(std::vector<std::string> options, const std::string& id,
                                               const std::vector<std::string>& cmd) const {
        std::vector<std::string> args{"run"};
        args.insert(args.end(), options.begin(), options.end());
        args.insert(args.end(), {"--runc-binary", runtime_, "--cgroup", cgroup(id), image, id});
        args.insert(args.end(), cmd.begin(), cmd.end());
        return args;
    }
    /// The container's cgroup (config.json's cgroupsPath).
    [[nodiscard]] std::string cgroup(const std::string& id) const { return parent_ + "/" + id; }
    /// The shim's --root for the runtime, in the throwaway host's private /run.
    static constexpr const char* runtime_root = "/run/containerd/runc/default";

private:
    std::unique_ptr<Runtime> daemon_;
};

PrivateContainerd::PrivateContainerd() : PrivateInstance("containerd") {
    const std::string archive = lab_archive();
    // No CRI plugin (it would want CNI); root, state and sockets are ours.
    write_file(dir / "config.toml", fmt::format(R"(version = 2
root = "{0}/root"
state = "{0}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{0}/containerd.sock"
[ttrpc]
  address = "{0}/containerd.sock.ttrpc"
)",
                                                dir.path()));
    host_ = std::make_unique<Namespaces>();
    host_->exec({"ip", "link", "set", "lo", "up"});
    daemon_ = host_->spawn({"/bin/sh", "-c",
                            fmt::format("exec containerd --config {} >{} 2>&1", shell_quote(dir / "config.toml"),
                                        shell_quote(dir / "containerd.log"))});
    if (!eventually([&] { return ctr({"version"}, 5s).status == 0; }, 30s)) {
        throw std::runtime_error("containerd did not answer on its socket within 30 s; its log:\n" +
                                 read_file(dir / "containerd.log"));
    }
    const Result imported = ctr({"images", "import", archive}, 120s);
    if (imported.status != 0) {
        throw std::runtime_error("ctr images import failed:\n" + describe_run(imported));
    }
}

PrivateContainerd::~PrivateContainerd() {
    // Every container the tests left: its task killed and deleted, then it.
    std::istringstream ids(ctr({"containers", "ls", "-q"}).out);
    for (std::string id; std::getline(ids, id);) {
        if (id.empty()) continue;
        (void)ctr({"task", "kill", "-s", "SIGKILL", id});
        (void)ctr({"task", "rm", "-f", id});
        (void)ctr({"containers", "rm", id});
    }
    daemon_->signal(SIGTERM);
    (void)daemon_->finish(15s); // SIGKILL after that; ~PrivateInstance checks that no shim of ours is left
}

/// A row of `ctr task ls`: TASK PID STATUS.
struct Task {
    pid_t pid = 0;
    std::string status; ///< RUNNING, PAUSED, STOPPED; "" when not listed
};

} // namespace

class Containerd : public ClientSuite<PrivateContainerd> {
protected:
    static void SetUpTestSuite() { start({"containerd", "ctr"}); }
    void SetUp() override { check({"containerd", "ctr", "containerd-shim-runc-v2", "script"}); }

    static Task task(const std::string& id) {
        std::istringstream rows(env().ctr({"task", "ls"}).out);
        for (std::string row; std::getline(rows, row);) {
            std::istringstream words(row);
            std::string name, pid, status;
            if (words >> name >> pid >> status && name == id) return {std::stoi(pid), status};
        }
        return {};
    }
    static bool task_is(const std::string& id, const std::string& status) {
        return eventually([&] { return task(id).status == status; });
    }
    /// The container's init, as `ctr task ls` reports it once it runs (0 if it does not).
    static pid_t running_init(const std::string& id) { return task_is(id, "RUNNING") ? task(id).pid : 0; }
};

TEST_F(Containerd, RunPrintsTheOutputAndTheExitStatus) {
    const std::string id = unique("run");
    const Result r = env().ctr(env().run({"--rm"}, id, {"sh", "-c", "echo hello from pid $$; exit 3"}));
    EXPECT_EQ(r.status, 3) << "ctr run exits with the container's status\n" << r;
    EXPECT_NE(r.out.find("hello from pid 1"), std::string::npos)
        << "the container's stdout (the pipes the shim gave create) reaches ctr\n" << r;
    const Result ok = env().ctr(env().run({"--rm"}, unique("ok"), {"true"}));
    EXPECT_EQ(ok.status, 0) << ok;
}

TEST_F(Containerd, AFailedCreateShowsTheRuntimesErrorAndLeavesNothing) {
    const std::string id = unique("bad");
    const Result r = env().ctr(env().run({"--rm"}, id, {"/no/such/program"}));
    EXPECT_NE(r.status, 0) << r;
    // The shim reads the last error line of --log (json) and returns it to ctr.
    EXPECT_NE(r.err.find("/no/such/program"), std::string::npos)
        << "the runtime's error, from its --log-format json file, names the missing program\n" << r;
    EXPECT_TRUE(eventually([&] { return env().ctr({"containers", "ls", "-q"}).out.find(id) == std::string::npos; }))
        << "ctr run --rm removes the container after a failed create";
    const Result root = env().host().exec({"ls", "-A", PrivateContainerd::runtime_root});
    EXPECT_EQ(root.out.find(id), std::string::npos) << "no state of it under the runtime's --root\n" << root;
    EXPECT_TRUE(eventually([&] { return cgroups_named(id).empty(); }, 5s))
        << "no cgroup of it is left: " << fmt::format("{}", fmt::join(cgroups_named(id), " "));
}

TEST_F(Containerd, TaskLsExecPsPauseResumeAndKill) {
    const std::string id = unique("task");
    auto attached = env().ctr_background(env().run({"--rm"}, id, {"sleep", "300"}));
    ASSERT_TRUE(task_is(id, "RUNNING")) << "ctr task ls shows the task RUNNING\n" << attached->record();
    const pid_t pid = task(id).pid;
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(process_exists(pid)) << "the pid ctr reports (from create's --pid-file) is alive";
    const std::string nspid = proc_status(pid, "NSpid");
    EXPECT_EQ(nspid.substr(nspid.rfind('\t') + 1), "1") << "it is PID 1 of its own PID namespace: " << nspid;

    const Result exec = env().ctr({"task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo from exec; exit 4"});
    EXPECT_EQ(exec.status, 4) << "task exec returns the process's status\n" << exec;
    EXPECT_NE(exec.out.find("from exec"), std::string::npos) << exec;

    const Result ps = env().ctr({"task", "ps", id});
    EXPECT_EQ(ps.status, 0) << ps;
    EXPECT_NE(ps.out.find(std::to_string(pid)), std::string::npos) << "task ps (runtime ps --format json) lists init\n" << ps;

    const Result pause = env().ctr({"task", "pause", id});
    EXPECT_EQ(pause.status, 0) << pause;
    EXPECT_TRUE(task_is(id, "PAUSED")) << env().ctr({"task", "ls"});
    EXPECT_TRUE(freezer_state(pid) == "FROZEN" || freezer_state(pid) == "1")
        << "init's cgroup is frozen on the host: [" << freezer_state(pid) << "] in " << cgroup_dir_of(pid, "freezer");
    const Result resume = env().ctr({"task", "resume", id});
    EXPECT_EQ(resume.status, 0) << resume;
    EXPECT_TRUE(task_is(id, "RUNNING")) << env().ctr({"task", "ls"});
    EXPECT_TRUE(freezer_state(pid) == "THAWED" || freezer_state(pid) == "0")
        << "init's cgroup is thawed: [" << freezer_state(pid) << "] in " << cgroup_dir_of(pid, "freezer");

    const Result kill = env().ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(kill.status, 0) << kill;
    const Result ended = attached->finish(30s);
    EXPECT_EQ(ended.status, 137) << "a task killed by SIGKILL exits 128+9\n" << ended;
    EXPECT_TRUE(eventually([&] { return !process_exists(pid); }, 5s));
}

TEST_F(Containerd, SigtermLetsTheContainerExitWithItsOwnStatus) {
    const std::string id = unique("term");
    auto attached = env().ctr_background(
        env().run({"--rm"}, id, {"sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done"}));
    ASSERT_TRUE(attached->wait_for_output("ready")) << attached->record();
    const Result kill = env().ctr({"task", "kill", id}); // SIGTERM
    EXPECT_EQ(kill.status, 0) << kill;
    const Result ended = attached->finish(30s);
    EXPECT_EQ(ended.status, 42) << "the container's trap ran: its exit status reaches ctr\n" << ended;
}

TEST_F(Containerd, MemoryLimitIsOnTheCgroupThatExecJoinsToo) {
    const std::string id = unique("mem");
    auto attached = env().ctr_background(env().run({"--rm", "--memory-limit", "33554432"}, id, {"sleep", "300"}));
    const pid_t pid = running_init(id);
    ASSERT_GT(pid, 0) << attached->record();
    // The cgroup init is in, wherever the runtime made it (CgroupIsTheOneTheClientNamed checks where).
    const std::string file = control_file(cgroup_dir_of(pid, "memory"), "memory.limit_in_bytes", "memory.max");
    EXPECT_EQ(read_file(file), "33554432\n") << "--memory-limit (linux.resources.memory.limit) on init's cgroup: " << file;
    // An exec'd process is in the same cgroup as init (as the container sees both).
    const Result inside = env().ctr({"task", "exec", "--exec-id", "m1", id, "sh", "-c",
                                     "cat /proc/1/cgroup; echo --; cat /proc/self/cgroup"});
    EXPECT_EQ(inside.status, 0) << inside;
    const auto split = inside.out.find("--\n");
    ASSERT_NE(split, std::string::npos) << inside;
    EXPECT_EQ(inside.out.substr(0, split), inside.out.substr(split + 3)) << "exec joined init's cgroups\n" << inside;
    (void)env().ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(attached->finish(30s).status, 137);
}

TEST_F(Containerd, CgroupIsTheOneTheClientNamed) {
    const std::string id = unique("cgpath");
    auto attached = env().ctr_background(env().run({"--rm"}, id, {"sleep", "300"}));
    const pid_t pid = running_init(id);
    ASSERT_GT(pid, 0) << attached->record();
    // ctr run --cgroup P/ID → linux.cgroupsPath "P/ID": kubelet and
    // containerd's metrics find the container there.
    const std::string dir = cgroup_dir_of(pid, "memory");
    EXPECT_TRUE(dir.ends_with(env().cgroup(id))) << "init's cgroup is linux.cgroupsPath " << env().cgroup(id)
                                                 << ", not " << dir;
    (void)env().ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(attached->finish(30s).status, 137);
}

TEST_F(Containerd, OnlyTheNamespacesTheSpecListsAreNew) {
    const std::string id = unique("ns");
    auto attached = env().ctr_background(env().run({"--rm"}, id, {"sleep", "300"}));
    const pid_t pid = running_init(id);
    ASSERT_GT(pid, 0) << attached->record();
    // ctr's spec lists pid, ipc, uts, mount and network: those are new; no
    // cgroup and no user namespace was asked for, so init shares the shim's.
    for (const std::string ns : {"pid", "ipc", "uts", "mnt", "net"}) {
        EXPECT_NE(namespace_of(pid, ns), namespace_of(env().host().pid(), ns)) << ns << " is a new namespace";
    }
    for (const std::string ns : {"cgroup", "user"}) {
        EXPECT_EQ(namespace_of(pid, ns), namespace_of(env().host().pid(), ns))
            << "config.json lists no " << ns << " namespace: the container must not get one";
    }
    (void)env().ctr({"task", "kill", "-s", "SIGKILL", id});
    EXPECT_EQ(attached->finish(30s).status, 137);
}

TEST_F(Containerd, NothingIsLeftAfterTaskRmAndContainerRm) {
    const std::string id = unique("gone");
    const Result run = env().ctr(env().run({"-d"}, id, {"sleep", "300"}));
    ASSERT_EQ(run.status, 0) << run;
    ASSERT_TRUE(task_is(id, "RUNNING")) << env().ctr({"task", "ls"});
    const pid_t pid = task(id).pid;
    const std::vector<std::string> cgroups = own_cgroup_dirs(pid);
    EXPECT_FALSE(cgroups.empty()) << "a running task has cgroups of its own";
    EXPECT_EQ(env().ctr({"task", "kill", "-s", "SIGKILL", id}).status, 0);
    EXPECT_TRUE(task_is(id, "STOPPED")) << env().ctr({"task", "ls"});
    const Result rm = env().ctr({"task", "rm", id});
    EXPECT_EQ(rm.status, 0) << rm;
    EXPECT_NE(rm.err.find("exit code 137"), std::string::npos) << "the status the shim saw: SIGKILL\n" << rm;
    const Result crm = env().ctr({"containers", "rm", id});
    EXPECT_EQ(crm.status, 0) << crm;

    EXPECT_FALSE(process_exists(pid)) << "init " << pid << " is gone";
    EXPECT_TRUE(eventually([&] { return still_there(cgroups).empty(); }, 5s))
        << "no cgroup of it is left: " << still_there(cgroups);
    const Result root = env().host().exec({"ls", "-A", PrivateContainerd::runtime_root});
    EXPECT_EQ(root.out.find(id), std::string::npos) << "no state left under the shim's --root\n" << root;
    const Result state = env().host().exec({runtime_path(), "--root", PrivateContainerd::runtime_root, "state", id});
    EXPECT_NE(state.status, 0) << "the runtime knows the container no more\n" << state;
    EXPECT_TRUE(eventually([&] { return processes_mentioning("-id " + id + " ").empty(); }, 5s))
        << "its shim has exited";
}

TEST_F(Containerd, TtyRunGetsAPseudoTerminalThroughTheConsoleSocket) {
    const std::string id = unique("tty");
    std::string command;
    for (const auto& word : env().ctr_argv(env().run({"-t", "--rm"}, id, {"sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; exit 7"}))) {
        command += (command.empty() ? "" : " ") + shell_quote(word);
    }
    // script(1) gives ctr a terminal of its own, as a user's shell would.
    const Result r = env().host().exec({"script", "-qec", command, "/dev/null"}, 60s);
    EXPECT_EQ(r.status, 7) << r;
    EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << "the container's stdio is a pty\n" << r;
    EXPECT_NE(r.out.find("stdin-is-a-tty"), std::string::npos) << r;
    EXPECT_NE(calls_since(env().dir, calls_from_).find("--console-socket"), std::string::npos)
        << "the shim passed create a --console-socket";
}

} // namespace lab::oci
