// The cgroup v1 driver (cgroup_v1.cpp of the latest step, which carries step
// 05's forward) against a fake tree of per-controller hierarchies
// (root/memory, root/cpu, root/pids): logic only, with a fake in place of the
// kernel.
#include "fake_cgroupfs.hpp"

#include <nsrun/error.hpp>

#include <chrono>
#include <csignal>
#include <optional>

namespace {

using fake::fs::path;
using fake::put;
using fake::read;

class CgroupV1Fake : public fake::CgroupfsTest {
protected:
    void SetUp() override {
        CgroupfsTest::SetUp();
        for (const char* h : {"memory", "cpu", "cpuacct", "pids", "systemd"}) {
            fake::fs::create_directory(root / h);
            put(root / h / "cgroup.procs", "1\n");
        }
    }

    /// The kernel's part: a new v1 cgroup comes with its controller's files.
    /// Writable ones start empty here (a plain file is not truncated by a
    /// write, a kernel file is), so "never written" reads as "".
    MkdirHook hook = [this](const std::string& dir) {
        const path d{dir};
        // The first path component names the hierarchy ("cpu,cpuacct" counts as cpu).
        std::string hierarchy = fake::fs::relative(d, root).begin()->string();
        hierarchy = hierarchy.substr(0, hierarchy.find(','));
        put(d / "cgroup.procs", "");
        put(d / "tasks", "");
        if (hierarchy == "memory") {
            put(d / "memory.limit_in_bytes", "");
            if (with_memsw) {
                put(d / "memory.memsw.limit_in_bytes", "");
            }
            put(d / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
        } else if (hierarchy == "cpu") {
            put(d / "cpu.cfs_quota_us", "");
            put(d / "cpu.cfs_period_us", "");
            put(d / "cpu.shares", "");
        } else if (hierarchy == "pids") {
            put(d / "pids.max", "");
        }
    };
    bool with_memsw = true;

    std::unique_ptr<CgroupDriver> driver() { return make_cgroup_v1_driver(root.string(), hook); }
    path container(const std::string& hierarchy, const std::string& id) { return root / hierarchy / "nsrun" / id; }
};

TEST_F(CgroupV1Fake, OneCgroupPerControllerHierarchy) {
    auto d = driver();
    d->create("abc123");
    EXPECT_EQ(d->name(), "cgroup v1");
    const std::vector<std::string> expected = {container("memory", "abc123").string(),
                                               container("cpu", "abc123").string(),
                                               container("pids", "abc123").string()};
    EXPECT_EQ(d->directories(), expected);
    for (const auto& dir : expected) {
        EXPECT_TRUE(fake::fs::is_directory(dir)) << dir;
    }
    EXPECT_FALSE(fake::fs::exists(root / "cpuacct" / "nsrun")) << "only the hierarchies the limits need";
    EXPECT_FALSE(fake::fs::exists(root / "systemd" / "nsrun"));
}

TEST_F(CgroupV1Fake, CoMountedControllersAreFoundThroughTheirSymlink) {
    // Most distributions co-mount cpu and cpuacct: cpu -> cpu,cpuacct.
    fake::fs::remove_all(root / "cpu");
    fake::fs::create_directory(root / "cpu,cpuacct");
    fake::fs::create_directory_symlink("cpu,cpuacct", root / "cpu");
    auto d = driver();
    d->create("abc123");
    CgroupOptions limits;
    limits.cpus = 1.5;
    d->set_limits(limits);
    EXPECT_EQ(read(root / "cpu,cpuacct" / "nsrun" / "abc123" / "cpu.cfs_quota_us"), "150000");
}

TEST_F(CgroupV1Fake, LeftoversOfLiveContainersAreNeverCollected) {
    // Making a cgroup also removes leftovers of killed runtimes in nsrun/:
    // only old, empty, childless ones (the step tests prove the removal on
    // the real kernel; a fake directory with files cannot be rmdir'ed).
    const auto make = [this](const std::string& name, const std::string& procs, bool old) {
        const path d = root / "memory" / "nsrun" / name;
        fake::fs::create_directories(d);
        put(d / "cgroup.procs", procs);
        if (old) {
            fake::fs::last_write_time(d, fake::fs::file_time_type::clock::now() - std::chrono::minutes(5));
        }
        return d;
    };
    const path young = make("young", "", false);    // still being set up
    const path busy = make("busy", "4242\n", true);  // a running container
    const path parent = make("parent", "", true);    // has a child cgroup
    fake::fs::create_directory(parent / "child");
    fake::fs::last_write_time(parent, fake::fs::file_time_type::clock::now() - std::chrono::minutes(5));
    auto d = driver();
    d->create("abc123");
    EXPECT_TRUE(fake::fs::exists(young / "cgroup.procs"));
    EXPECT_EQ(read(busy / "cgroup.procs"), "4242\n");
    EXPECT_TRUE(fake::fs::exists(parent / "child"));
    EXPECT_TRUE(fake::fs::is_directory(container("memory", "abc123")));
}

TEST_F(CgroupV1Fake, WritesEveryLimit) {
    auto d = driver();
    d->create("abc123");
    CgroupOptions limits;
    limits.memory = 64ULL << 20;
    limits.cpus = 0.5;
    limits.cpu_weight = 200;
    limits.pids_limit = 42;
    d->set_limits(limits);
    EXPECT_EQ(read(container("memory", "abc123") / "memory.limit_in_bytes"), "67108864");
    EXPECT_EQ(read(container("memory", "abc123") / "memory.memsw.limit_in_bytes"), "67108864")
        << "memory+swap equal to memory: no swap";
    EXPECT_EQ(read(container("cpu", "abc123") / "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(read(container("cpu", "abc123") / "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(read(container("cpu", "abc123") / "cpu.shares"), "2048") << "shares = weight * 1024 / 100";
    EXPECT_EQ(read(container("pids", "abc123") / "pids.max"), "42");
}

TEST_F(CgroupV1Fake, MemswIsWrittenOnlyWhereItExists) {
    with_memsw = false;
    auto d = driver();
    d->create("abc123");
    CgroupOptions limits;
    limits.memory = 128ULL << 20;
    d->set_limits(limits);
    EXPECT_EQ(read(container("memory", "abc123") / "memory.limit_in_bytes"), "134217728");
    EXPECT_FALSE(fake::fs::exists(container("memory", "abc123") / "memory.memsw.limit_in_bytes"));
}

TEST_F(CgroupV1Fake, LimitsNotAskedForAreNotWritten) {
    auto d = driver();
    d->create("abc123");
    d->set_limits(CgroupOptions{});
    EXPECT_EQ(read(container("memory", "abc123") / "memory.limit_in_bytes"), "");
    EXPECT_EQ(read(container("cpu", "abc123") / "cpu.cfs_quota_us"), "");
    EXPECT_EQ(read(container("cpu", "abc123") / "cpu.shares"), "");
    EXPECT_EQ(read(container("pids", "abc123") / "pids.max"), "");
}

TEST_F(CgroupV1Fake, AddProcessWritesEveryHierarchy) {
    auto d = driver();
    d->create("abc123");
    d->add_process(4242);
    for (const char* h : {"memory", "cpu", "pids"}) {
        EXPECT_EQ(read(container(h, "abc123") / "cgroup.procs"), "4242") << h;
    }
    EXPECT_EQ(read(root / "memory" / "cgroup.procs"), "1\n") << "the root cgroup is not ours";
}

TEST_F(CgroupV1Fake, OomKillsComeFromMemoryOomControl) {
    auto d = driver();
    d->create("abc123");
    EXPECT_EQ(d->oom_kills(), 0u);
    put(container("memory", "abc123") / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    EXPECT_EQ(d->oom_kills(), 3u);
}

TEST_F(CgroupV1Fake, AMissingHierarchyIsAClearErrorAndLeavesNothing) {
    fake::fs::remove_all(root / "pids");
    try {
        Cgroup cgroup{driver(), "abc123", CgroupOptions{}};
        FAIL() << "a cgroup was made without a pids hierarchy";
    } catch (const nsrun::Error& e) {
        EXPECT_NE(std::string(e.what()).find("pids"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fake::fs::exists(root / "memory" / "nsrun"));
    EXPECT_FALSE(fake::fs::exists(root / "cpu" / "nsrun"));
}

TEST_F(CgroupV1Fake, RemovalTakesEveryDirectoryItMade) {
    auto d = driver();
    d->create("abc123");
    for (const char* h : {"memory", "cpu", "pids"}) {
        forget(root / h / "nsrun");
    }
    testing::internal::CaptureStderr();
    d->remove();
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    for (const char* h : {"memory", "cpu", "pids"}) {
        EXPECT_FALSE(fake::fs::exists(root / h / "nsrun")) << h;
        EXPECT_TRUE(fake::fs::exists(root / h / "cgroup.procs")) << h;
    }
}

TEST_F(CgroupV1Fake, RemovalKeepsAParentOtherContainersUse) {
    auto mine = driver();
    mine->create("mine");
    auto other = driver();
    other->create("other");
    for (const char* h : {"memory", "cpu", "pids"}) {
        forget(container(h, "mine"));
    }
    testing::internal::CaptureStderr();
    mine->remove();
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    for (const char* h : {"memory", "cpu", "pids"}) {
        EXPECT_FALSE(fake::fs::exists(container(h, "mine"))) << h;
        EXPECT_TRUE(fake::fs::is_directory(container(h, "other"))) << h;
    }
}

TEST_F(CgroupV1Fake, AnOomKilledContainerExits137WithAMessage) {
    CgroupOptions limits;
    limits.memory = 64ULL << 20;
    std::optional<Cgroup> cgroup;
    cgroup.emplace(driver(), "abc123", limits);
    put(container("memory", "abc123") / "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(cgroup->exit_status(SIGKILL), 137);
    EXPECT_NE(testing::internal::GetCapturedStderr().find("container killed: out of memory (limit 64 MiB)"),
              std::string::npos);
    for (const char* h : {"memory", "cpu", "pids"}) {
        forget(root / h / "nsrun");
    }
    cgroup.reset();
    EXPECT_FALSE(fake::fs::exists(root / "memory" / "nsrun"));
}

} // namespace
