// podman drives the runtime under test: `podman --runtime RUNTIME` with its
// own storage (--root, --runroot, vfs), configuration (CONTAINERS_CONF,
// CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF) and cgroupfs, inside a
// throwaway host whose /run and /var/lib are private: the bridge, iptables
// rules, network namespaces and CNI leases podman makes stay there.  podman
// runs the runtime through conmon: create --bundle --pid-file
// [--console-socket], start, exec --detach --process, kill, pause/resume,
// update --resources, delete --force.
#include "clients.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <sys/resource.h>
#include <thread>

namespace lab::oci {
namespace {

const std::string image = "localhost/lab:latest"; // what `podman load` names rootfs/lab.oci.tar

/// podman with everything of its own, under a scratch directory.
class PrivatePodman : public PrivateInstance {
public:
    PrivatePodman();
    ~PrivatePodman();

    [[nodiscard]] std::vector<std::string> podman_argv(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{"env",
                                      "CONTAINERS_CONF=" + dir / "containers.conf",
                                      "CONTAINERS_STORAGE_CONF=" + dir / "storage.conf",
                                      "CONTAINERS_REGISTRIES_CONF=" + dir / "registries.conf",
                                      "podman",
                                      "--root", dir / "root",
                                      "--runroot", dir / "runroot",
                                      "--storage-driver", "vfs",
                                      "--cgroup-manager", "cgroupfs",
                                      "--events-backend", "file",
                                      "--runtime", runtime_};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    [[nodiscard]] Result podman(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 120s) const {
        return host_->exec(podman_argv(args), timeout);
    }
    /// `run --cgroup-parent PARENT OPTIONS… IMAGE CMD…`
    [[nodiscard]] std::vector<std::string> run(const std::vector<std::string>& options,
                                               const std::vector<std::string>& cmd) const {
        std::vector<std::string> args{"run", "--cgroup-parent", parent_};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(image);
        args.insert(args.end(), cmd.begin(), cmd.end());
        return args;
    }
    /// The cgroup podman asks for a container (config.json's cgroupsPath).
    [[nodiscard]] std::string cgroup(const std::string& id) const { return parent_ + "/libpod-" + id; }
};

PrivatePodman::PrivatePodman() : PrivateInstance("podman") {
    const std::string archive = lab_archive();
    // podman (as root) asks for RLIMIT_NOFILE 1048576 and a large RLIMIT_NPROC
    // in every container; where the caller's hard limits are lower and it
    // lacks CAP_SYS_RESOURCE (VMs, CI runners) the runtime cannot set them and
    // create fails with EPERM.  Ask for what this process has.
    const auto hard = [](int resource, unsigned long cap) {
        rlimit limit{};
        ::getrlimit(resource, &limit);
        return limit.rlim_max == RLIM_INFINITY ? cap : std::min(cap, static_cast<unsigned long>(limit.rlim_max));
    };
    const unsigned long files = hard(RLIMIT_NOFILE, 1048576);
    const unsigned long processes = hard(RLIMIT_NPROC, 4096);
    write_file(dir / "containers.conf", fmt::format(R"([containers]
default_ulimits = ["nofile={1}:{1}", "nproc={2}:{2}"]
[engine]
tmp_dir = "{0}/tmp"
image_copy_tmp_dir = "{0}/tmp"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{0}/events.log"
[network]
network_config_dir = "{0}/cni"
)",
                                                    dir.path(), files, processes));
    write_file(dir / "storage.conf", fmt::format(R"([storage]
driver = "vfs"
graphroot = "{0}/root"
runroot = "{0}/runroot"
)",
                                                 dir.path()));
    write_file(dir / "registries.conf", "unqualified-search-registries = []\n"); // no registry is asked for anything
    host_ = std::make_unique<Namespaces>();
    // CNI keeps leases and results under /var/lib/cni: a private /var/lib.
    for (const auto& argv : std::vector<std::vector<std::string>>{{"mount", "-t", "tmpfs", "tmpfs", "/var/lib"},
                                                                  {"ip", "link", "set", "lo", "up"}}) {
        const Result r = host_->exec(argv);
        if (r.status != 0) throw std::runtime_error("throwaway host set-up failed:\n" + describe_run(r));
    }
    const Result loaded = podman({"load", "-i", archive});
    if (loaded.status != 0 || loaded.out.find(image) == std::string::npos) {
        throw std::runtime_error("podman load failed:\n" + describe_run(loaded));
    }
}

PrivatePodman::~PrivatePodman() {
    (void)podman({"rm", "--all", "--force", "--time", "0"}); // ~PrivateInstance checks that no conmon of ours is left
}

} // namespace

class Podman : public ClientSuite<PrivatePodman> {
protected:
    static void SetUpTestSuite() { start({"podman", "conmon"}); }
    void SetUp() override { check({"podman", "conmon", "script"}); }

    static Result podman(const std::vector<std::string>& args) { return env().podman(args); }

    /// `podman inspect --format FORMAT NAME`, trimmed.
    static std::string inspect(const std::string& name, const std::string& format) {
        std::string out = podman({"inspect", "--format", format, name}).out;
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        return out;
    }
    /// `run -d --name NAME OPTIONS… IMAGE CMD…`: the container's full id ("" if it did not start).
    static std::string detach(const std::string& name, std::vector<std::string> options,
                              const std::vector<std::string>& cmd) {
        options.insert(options.begin(), {"-d", "--name", name});
        const Result r = podman(env().run(options, cmd));
        EXPECT_EQ(r.status, 0) << r;
        std::string id = r.out.substr(0, r.out.find('\n'));
        return r.status == 0 ? id : "";
    }
    /// The host pid of a running container's init (0 if podman does not know it).
    static pid_t init_of(const std::string& name) { return std::stoi("0" + inspect(name, "{{.State.Pid}}")); }
    /// `script -qec COMMAND`: the podman command line run on a terminal of its own.
    static Result on_a_terminal(const std::vector<std::string>& args) {
        std::string command;
        for (const auto& word : env().podman_argv(args)) command += (command.empty() ? "" : " ") + shell_quote(word);
        return env().host().exec({"script", "-qec", command, "/dev/null"}, 120s);
    }
    /// The same, in the background.
    static std::unique_ptr<Runtime> start_on_a_terminal(const std::vector<std::string>& args) {
        std::string command;
        for (const auto& word : env().podman_argv(args)) command += (command.empty() ? "" : " ") + shell_quote(word);
        return env().host().spawn({"script", "-qec", command, "/dev/null"});
    }
};

TEST_F(Podman, RunPrintsTheOutputAndMapsExitStatuses) {
    const Result r = podman(env().run({"--rm"}, {"sh", "-c", "echo hello from pid $$; exit 3"}));
    EXPECT_EQ(r.status, 3) << "podman run exits with the container's status\n" << r;
    EXPECT_NE(r.out.find("hello from pid 1"), std::string::npos) << "conmon relays the container's stdout\n" << r;
    const Result ok = podman(env().run({"--rm"}, {"true"}));
    EXPECT_EQ(ok.status, 0) << ok;
    // podman reads the runtime's error text: "executable file not found" /
    // "no such file or directory" → 127, "permission denied" → 126.
    const Result missing = podman(env().run({"--rm"}, {"/no/such/program"}));
    EXPECT_EQ(missing.status, 127) << "a program that does not exist: 127\n" << missing;
    EXPECT_NE(missing.err.find("/no/such/program"), std::string::npos) << "the runtime's error names it\n" << missing;
    const Result denied = podman(env().run({"--rm"}, {"/etc/passwd"}));
    EXPECT_EQ(denied.status, 126) << "a file that cannot be executed: 126\n" << denied;
}

TEST_F(Podman, DetachedRunWithLogsInspectPsAndExec) {
    const std::string id = detach("web", {}, {"sh", "-c", "echo started; exec sleep 300"});
    ASSERT_EQ(id.size(), 64u) << "run -d prints the container's id: [" << id << "]";
    EXPECT_TRUE(eventually([&] { return podman({"logs", "web"}).out.find("started") != std::string::npos; }))
        << "podman logs shows what the container printed\n" << podman({"logs", "web"});
    EXPECT_EQ(inspect("web", "{{.State.Status}}"), "running");
    const pid_t pid = std::stoi("0" + inspect("web", "{{.State.Pid}}"));
    ASSERT_GT(pid, 0);
    EXPECT_TRUE(process_exists(pid)) << "the pid podman got from create's --pid-file is alive";
    const std::string nspid = proc_status(pid, "NSpid");
    EXPECT_EQ(nspid.substr(nspid.rfind('\t') + 1), "1") << nspid;
    const Result ps = podman({"ps"});
    EXPECT_NE(ps.out.find("web"), std::string::npos) << ps;
    const Result exec = podman({"exec", "web", "sh", "-c", "echo from exec; exit 5"});
    EXPECT_EQ(exec.status, 5) << "podman exec returns the process's status\n" << exec;
    EXPECT_NE(exec.out.find("from exec"), std::string::npos) << exec;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "web"}).status, 0);
}

TEST_F(Podman, StopSendsSigtermAndKeepsTheContainersStatus) {
    ASSERT_FALSE(detach("stopper", {}, {"sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.1; done"}).empty());
    const Result stop = podman({"stop", "-t", "20", "stopper"});
    EXPECT_EQ(stop.status, 0) << stop;
    EXPECT_EQ(inspect("stopper", "{{.State.Status}} {{.State.ExitCode}}"), "exited 42")
        << "SIGTERM reached the container's trap";
    EXPECT_EQ(podman({"rm", "stopper"}).status, 0);
}

TEST_F(Podman, KillEndsTheContainerWith137) {
    ASSERT_FALSE(detach("killed", {}, {"sleep", "300"}).empty());
    const Result kill = podman({"kill", "killed"});
    EXPECT_EQ(kill.status, 0) << kill;
    const Result wait = podman({"wait", "killed"});
    EXPECT_EQ(wait.out, "137\n") << "podman wait: 128+SIGKILL\n" << wait;
    EXPECT_EQ(inspect("killed", "{{.State.Status}} {{.State.ExitCode}}"), "exited 137");
    EXPECT_EQ(podman({"rm", "killed"}).status, 0);
}

TEST_F(Podman, RmLeavesNoProcessNoRuntimeStateAndNoCgroup) {
    const std::string id = detach("doomed", {}, {"sleep", "300"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = init_of("doomed");
    EXPECT_GT(pid, 0);
    const std::vector<std::string> cgroups = own_cgroup_dirs(pid);
    EXPECT_FALSE(cgroups.empty()) << "a running container has cgroups of its own";
    const Result state = env().host().exec({runtime_path(), "state", id});
    EXPECT_EQ(state.status, 0) << "the runtime knows the running container\n" << state;
    EXPECT_NE(state.out.find("\"running\""), std::string::npos) << state;

    const Result rm = podman({"rm", "-f", "-t", "0", "doomed"});
    EXPECT_EQ(rm.status, 0) << rm;
    EXPECT_TRUE(eventually([&] { return !process_exists(pid); }, 5s)) << "init " << pid << " is gone";
    EXPECT_TRUE(eventually([&] { return still_there(cgroups).empty(); }, 5s))
        << "no cgroup of it is left: " << still_there(cgroups);
    const Result after = env().host().exec({runtime_path(), "state", id});
    EXPECT_NE(after.status, 0) << "delete --force removed the runtime's state\n" << after;
    EXPECT_TRUE(processes_mentioning(id).empty()) << "no conmon or container process of it is left";
}

TEST_F(Podman, PauseFreezesAndUnpauseThaws) {
    const std::string id = detach("frozen", {}, {"sleep", "300"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = init_of("frozen");
    ASSERT_GT(pid, 0);
    const Result pause = podman({"pause", "frozen"});
    EXPECT_EQ(pause.status, 0) << pause;
    EXPECT_EQ(inspect("frozen", "{{.State.Status}}"), "paused");
    EXPECT_TRUE(freezer_state(pid) == "FROZEN" || freezer_state(pid) == "1")
        << "init's cgroup is frozen: [" << freezer_state(pid) << "] in " << cgroup_dir_of(pid, "freezer");
    const Result unpause = podman({"unpause", "frozen"});
    EXPECT_EQ(unpause.status, 0) << unpause;
    EXPECT_EQ(inspect("frozen", "{{.State.Status}}"), "running");
    EXPECT_TRUE(freezer_state(pid) == "THAWED" || freezer_state(pid) == "0")
        << "init's cgroup is thawed: [" << freezer_state(pid) << "] in " << cgroup_dir_of(pid, "freezer");
    const Result exec = podman({"exec", "frozen", "echo", "alive"});
    EXPECT_EQ(exec.out, "alive\n") << exec;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "frozen"}).status, 0);
}

TEST_F(Podman, UpdateChangesTheLiveMemoryLimit) {
    const std::string id = detach("grown", {"-m", "64m"}, {"sleep", "300"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = init_of("grown");
    ASSERT_GT(pid, 0);
    const std::string file = control_file(cgroup_dir_of(pid, "memory"), "memory.limit_in_bytes", "memory.max");
    EXPECT_EQ(read_file(file), "67108864\n") << file;
    const Result update = podman({"update", "--memory", "128m", "grown"});
    EXPECT_EQ(update.status, 0) << "podman update → runtime update --resources FILE\n" << update;
    EXPECT_EQ(read_file(file), "134217728\n") << "the live cgroup has the new limit: " << file;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "grown"}).status, 0);
}

TEST_F(Podman, CgroupAndNetworkNamespaceAreTheOnesPodmanNamed) {
    const std::string id = detach("placed", {}, {"sleep", "300"});
    ASSERT_FALSE(id.empty());
    const pid_t pid = init_of("placed");
    ASSERT_GT(pid, 0);
    // --cgroup-parent P → linux.cgroupsPath "P/libpod-ID": podman stats and
    // top read the container's cgroup there.
    const std::string dir = cgroup_dir_of(pid, "memory");
    EXPECT_TRUE(dir.ends_with(env().cgroup(id))) << "init's cgroup is linux.cgroupsPath " << env().cgroup(id)
                                                 << ", not " << dir;
    // podman made the network namespace (and wired it with CNI) before
    // create: linux.namespaces has {"type":"network","path":"/run/netns/…"}.
    const std::string netns = inspect("placed", "{{.NetworkSettings.SandboxKey}}");
    const Result inode = env().host().exec({"stat", "-L", "-c", "%i", netns});
    ASSERT_EQ(inode.status, 0) << inode;
    EXPECT_EQ(namespace_of(pid, "net"), "net:[" + inode.out.substr(0, inode.out.find('\n')) + "]")
        << "init joined podman's network namespace " << netns;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "placed"}).status, 0);
}

TEST_F(Podman, InteractiveRunAndExecGetATerminal) {
    // The program waits, after printing, until the test has read its output
    // (a file appears in a volume): a pty's output written just before its
    // last writer exits can be lost by the readers after the runtime
    // (conmon, podman attach, script(1)), which nsrun is not part of once the
    // master is sent; seen once in ~15 runs of the full suite with no wait,
    // and a fixed wait is a guess a loaded machine can outlast.
    const std::string go = env().dir / "tty-go";
    std::filesystem::create_directories(go);
    const auto wait_for = [](const std::string& file) {
        return "while [ ! -e /go/" + file + " ]; do sleep 0.1; done; ";
    };
    auto running = start_on_a_terminal(env().run(
        {"-it", "--rm", "-v", go + ":/go"},
        {"sh", "-c", "tty; test -t 0 && echo stdin-is-a-tty; " + wait_for("run") + "exit 7"}));
    const bool printed = running->wait_for_output("stdin-is-a-tty", 120s);
    write_file(go + "/run", "");
    const Result run = running->finish(120s);
    EXPECT_TRUE(printed) << "the container's output reached podman on its terminal\n" << run;
    EXPECT_EQ(run.status, 7) << run;
    EXPECT_NE(run.out.find("/dev/pts/"), std::string::npos) << "the pty came through --console-socket\n" << run;
    EXPECT_NE(run.out.find("stdin-is-a-tty"), std::string::npos) << run;
    ASSERT_FALSE(detach("shell", {"-v", go + ":/go"}, {"sleep", "300"}).empty());
    auto executing = start_on_a_terminal({"exec", "-it", "shell", "sh", "-c", "tty; " + wait_for("exec") + "exit 2"});
    (void)executing->wait_for_output("/dev/pts/", 120s);
    write_file(go + "/exec", "");
    const Result exec = executing->finish(120s);
    EXPECT_EQ(exec.status, 2) << exec;
    EXPECT_NE(exec.out.find("/dev/pts/"), std::string::npos) << "exec --tty --console-socket\n" << exec;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "shell"}).status, 0);
}

TEST_F(Podman, PublishedPortReachesHttpdInside) {
    ASSERT_FALSE(detach("www", {"-p", "8080:80"}, {"httpd", "-f", "-p", "80", "-h", "/srv/www"}).empty());
    // From the throwaway host (the only place the port is published), with
    // the lab's static probe as the client.
    const std::string probe = config().probe_dir + "/lab-probe";
    Result get;
    EXPECT_TRUE(eventually([&] {
        get = env().host().exec({probe, "http-get", "127.0.0.1", "8080", "/"});
        return value(get.out, "status") == "200" &&
               get.out.find("Hello from an nsrun container") != std::string::npos;
    })) << "the page through podman's port mapping (CNI portmap)\n" << get;
    EXPECT_EQ(podman({"rm", "-f", "-t", "0", "www"}).status, 0);
}

TEST_F(Podman, MemoryAndPidsLimitsAreVisibleInside) {
    const Result r = podman(env().run({"--rm", "-m", "32m", "--pids-limit", "20"},
                                      {"sh", "-c",
                                       "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                                       "cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max"}));
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(r.out, "33554432\n20\n") << "the container sees its own cgroup's limits at /sys/fs/cgroup\n" << r;
}

} // namespace lab::oci
