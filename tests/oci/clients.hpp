/// @file clients.hpp
/// @brief Real OCI clients (containerd, podman) driving the runtime under test.
///
/// The runtime under test is `--bin=PATH` (runc, crun, build/bin/nsrun): the
/// clients call it exactly as they call runc.  Every client runs privately:
///  - inside a throwaway host (netfixture.hpp): its own network namespace and
///    mount namespace with its own /run (and, for podman, its own /var/lib),
///    so bridges, iptables rules, netns files, shim sockets and CNI leases are
///    the test's alone and vanish with it;
///  - with its own configuration, storage and sockets under a scratch
///    directory on /tmp, removed at the end;
///  - with the containers' cgroups under a parent named for the test run,
///    removed at the end.
/// The runtime is wrapped by a logging script (`Scratch/runtime`) that records
/// every call — argv, working directory, the stdio descriptors, environment —
/// in `Scratch/calls.log`, then execs the real runtime; a failing test prints
/// the calls it caused.
#pragma once

#include "../steps/netfixture.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lab::oci {

/// A fresh directory /tmp/nsrun-oci-XXXXXX, removed (with everything in it) on destruction.
class Scratch {
public:
    Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch();
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text, unsigned mode = 0644);

/// The real runtime under test, an absolute path (config().bin, looked up in
/// PATH and /usr/sbin when it is a bare name); "" when it cannot be found.
std::string runtime_path();
/// Writes DIR/runtime, the logging wrapper around the runtime under test
/// (records into DIR/calls.log); returns its path.
std::string write_runtime_wrapper(const Scratch& dir);
/// What DIR/calls.log holds from byte `from` on (the calls of one test).
std::string calls_since(const Scratch& dir, std::size_t from);
/// The size of DIR/calls.log now.
std::size_t calls_size(const Scratch& dir);

/// Whether the machine has cgroup v2 only (the unified hierarchy at /sys/fs/cgroup).
bool cgroup_v2();
/// A cgroup's control file on the host: controller "memory", the cgroup
/// `path` (as in config.json's cgroupsPath, "/parent/name"), v1 file name
/// and its v2 name ("memory.limit_in_bytes" / "memory.max").
std::string cgroup_file(const std::string& controller, const std::string& path, const std::string& v1_file,
                        const std::string& v2_file);
/// The directories of cgroup `path` that exist, in every hierarchy.
std::vector<std::string> cgroup_dirs(const std::string& path);
/// Every cgroup directory on the machine whose name is `name` (4 levels deep at most).
std::vector<std::string> cgroups_named(const std::string& name);
/// Removes cgroup `path` and everything below it (bottom up) in every hierarchy; false if one stayed.
bool remove_cgroup_tree(const std::string& path);

/// The host directory of the cgroup process `pid` is in: in the v1
/// hierarchy of `controller` ("memory", "freezer", "pids"), or in the v2 tree
/// (controller ignored).  Read from /proc/PID/cgroup by the test, outside
/// any cgroup namespace of the container, so it is the host's full path.
/// "" when the process or the hierarchy is not there.
std::string cgroup_dir_of(pid_t pid, const std::string& controller);
/// Every cgroup directory `pid` is in on the host (one per v1 hierarchy, or the v2 one).
std::vector<std::string> cgroup_dirs_of(pid_t pid);
/// The cgroup directories of `pid` that its parent (the client's monitor:
/// the shim, conmon) is not in: the container's own.  In a v1 hierarchy the
/// runtime does not manage, the container stays in its caller's cgroup.
std::vector<std::string> own_cgroup_dirs(pid_t pid);
/// DIR/V1_FILE on cgroup v1, DIR/V2_FILE on v2.
std::string control_file(const std::string& dir, const std::string& v1_file, const std::string& v2_file);
/// Those of `dirs` that still exist, space separated ("" when none does).
std::string still_there(const std::vector<std::string>& dirs);
/// The first line of a file, without its newline ("" if unreadable).
std::string first_line_of(const std::string& path);

/// Processes on the machine whose command line mentions `text` (a scratch
/// directory): what a client left running.
std::vector<pid_t> processes_mentioning(const std::string& text);

/// Polls `ready` every 100 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout = 20s);

/// The tools a suite needs are installed; else a message with the fix.
std::string missing_tools(const std::vector<std::string>& tools);

/// The lines of `text` that contain `word`.
std::vector<std::string> lines_with(const std::string& text, const std::string& word);

/// rootfs/lab.oci.tar, the image every client loads (`make rootfs` makes
/// it); throws naming the fix when it is missing.
std::string lab_archive();

/// A suite's private instance, made by `make` when the suite can run at all
/// (root, `tools`, the runtime under test: else require() says what is
/// missing); returns the error that making it threw, "" if none.
std::string start_instance(const std::vector<std::string>& tools, const std::function<void()>& make);

/// What every private client instance has, made in this order: its scratch
/// directory (everything else lives in it; removed last), the logging
/// runtime wrapper in it, the cgroup its containers go under
/// (/nsrun-oci-CLIENT-…) and, made by the client's own constructor, its
/// throwaway host.  At the end — after the client's own destructor stopped
/// it — whatever still runs with the scratch directory in its command line is
/// a failure (and killed), the host goes, and the cgroups are removed (a
/// failure if one stays).
class PrivateInstance {
public:
    explicit PrivateInstance(const std::string& client);
    PrivateInstance(const PrivateInstance&) = delete;
    PrivateInstance& operator=(const PrivateInstance&) = delete;
    ~PrivateInstance();
    [[nodiscard]] const Namespaces& host() const { return *host_; }

    Scratch dir;

protected:
    std::string runtime_; ///< the logging wrapper: what the client is told the runtime is
    std::string parent_;  ///< the cgroup the containers go under
    std::unique_ptr<Namespaces> host_;
};

/// Base of the client suites: root, the client installed, the suite's
/// private instance up; on failure, the runtime calls of the test are shown.
class ClientTest : public ::testing::Test {
protected:
    /// Checks root and tools, then `suite_error` (the suite's set-up error);
    /// this test's runtime calls start at the end of `scratch`'s calls.log.
    void require(const std::vector<std::string>& tools, const std::string& suite_error, const Scratch* scratch);
    /// Prints the runtime calls of a failed test (from `scratch`'s calls.log).
    void show_calls_on_failure(const Scratch* scratch);
    /// The freezer's state of the cgroup `pid` is in: FROZEN/THAWED (v1) or 1/0 (v2).
    static std::string freezer_state(pid_t pid);

    std::size_t calls_from_ = 0;
};

/// A client suite whose tests share one private instance `Env` (which has
/// a `Scratch dir`), made once per suite: the suite's SetUpTestSuite calls
/// start() with the tools the instance needs, its SetUp check() with those
/// every test needs.
template <class Env>
class ClientSuite : public ClientTest {
protected:
    static void start(const std::vector<std::string>& tools) {
        error_ = start_instance(tools, [] { env_ = std::make_unique<Env>(); });
    }
    static void TearDownTestSuite() { env_.reset(); }
    void check(const std::vector<std::string>& tools) { require(tools, error_, scratch()); }
    void TearDown() override { show_calls_on_failure(scratch()); }

    static Env& env() { return *env_; }
    static const Scratch* scratch() { return env_ ? &env_->dir : nullptr; }

private:
    static inline std::unique_ptr<Env> env_;
    static inline std::string error_;
};

} // namespace lab::oci
