// The cgroup v2 driver (cgroup_v2.cpp of the latest step, which carries step
// 05's forward) against a fake unified tree: logic only, with a fake in place
// of the kernel.  The v2 driver on a real kernel is proven by the step tests
// on a v2 machine and in the cgroup-v2 VM (make test-vm).
#include "fake_cgroupfs.hpp"

#include <nsrun/error.hpp>

#include <csignal>
#include <optional>

namespace {

using fake::fs::path;
using fake::put;
using fake::read;

class CgroupV2Fake : public fake::CgroupfsTest {
protected:
    void SetUp() override {
        CgroupfsTest::SetUp();
        put(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(root / "cgroup.subtree_control", "cpu io memory pids\n");
        put(root / "cgroup.procs", "1\n");
    }

    /// The kernel's part: a new v2 cgroup comes with its interface files.
    /// Writable ones start empty here (a plain file is not truncated by a
    /// write, a kernel file is), so "never written" reads as "".
    fake::fs::path last_made;
    MkdirHook hook = [this](const std::string& dir) {
        const path d{dir};
        last_made = d;
        put(d / "cgroup.controllers", "cpu memory pids\n");
        put(d / "cgroup.subtree_control", "");
        put(d / "cgroup.procs", "");
        put(d / "memory.max", "");
        if (with_swap) {
            put(d / "memory.swap.max", "");
        }
        put(d / "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        put(d / "cpu.max", "");
        put(d / "cpu.weight", "");
        put(d / "pids.max", "");
    };
    bool with_swap = true;

    std::unique_ptr<CgroupDriver> driver() { return make_cgroup_v2_driver(root.string(), hook); }
    path container(const std::string& id) { return root / "nsrun" / id; }
};

TEST_F(CgroupV2Fake, CreatesTheContainerCgroupUnderNsrun) {
    auto d = driver();
    d->create("abc123");
    EXPECT_TRUE(fake::fs::is_directory(container("abc123")));
    ASSERT_EQ(d->directories().size(), 1u);
    EXPECT_EQ(d->directories().front(), container("abc123").string());
    EXPECT_EQ(d->name(), "cgroup v2");
}

TEST_F(CgroupV2Fake, EnablesTheControllersOnTheParent) {
    auto d = driver();
    d->create("abc123");
    // nsrun holds no process, so it may hand controllers down (no internal processes rule).
    EXPECT_EQ(read(root / "nsrun" / "cgroup.subtree_control"), "+memory +cpu +pids");
    EXPECT_EQ(read(root / "nsrun" / "cgroup.procs"), "") << "the parent must hold no process";
}

TEST_F(CgroupV2Fake, LeavesTheRootAloneWhenItsControllersAreEnabled) {
    auto d = driver();
    d->create("abc123");
    EXPECT_EQ(read(root / "cgroup.subtree_control"), "cpu io memory pids\n");
}

TEST_F(CgroupV2Fake, EnablesOnlyTheMissingControllersAtTheRoot) {
    put(root / "cgroup.subtree_control", "cpu io\n");
    auto d = driver();
    d->create("abc123");
    EXPECT_EQ(read(root / "cgroup.subtree_control"), "+memory +pids");
}

TEST_F(CgroupV2Fake, AMissingControllerIsAClearErrorAndLeavesNothing) {
    put(root / "cgroup.controllers", "cpu io\n");
    try {
        Cgroup cgroup{driver(), "abc123", CgroupOptions{}};
        FAIL() << "a cgroup was made without the memory controller";
    } catch (const nsrun::Error& e) {
        EXPECT_NE(std::string(e.what()).find("memory"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fake::fs::exists(root / "nsrun"));
}

TEST_F(CgroupV2Fake, WritesEveryLimit) {
    auto d = driver();
    d->create("abc123");
    CgroupOptions limits;
    limits.memory = 64ULL << 20;
    limits.cpus = 0.5;
    limits.cpu_weight = 200;
    limits.pids_limit = 42;
    d->set_limits(limits);
    const path c = container("abc123");
    EXPECT_EQ(read(c / "memory.max"), "67108864");
    EXPECT_EQ(read(c / "memory.swap.max"), "0") << "without it the container swaps instead of being held to the limit";
    EXPECT_EQ(read(c / "cpu.max"), "50000 100000");
    EXPECT_EQ(read(c / "cpu.weight"), "200");
    EXPECT_EQ(read(c / "pids.max"), "42");
}

TEST_F(CgroupV2Fake, LimitsNotAskedForAreNotWritten) {
    auto d = driver();
    d->create("abc123");
    d->set_limits(CgroupOptions{});
    const path c = container("abc123");
    EXPECT_EQ(read(c / "memory.max"), "");
    EXPECT_EQ(read(c / "memory.swap.max"), "");
    EXPECT_EQ(read(c / "cpu.max"), "");
    EXPECT_EQ(read(c / "cpu.weight"), "");
    EXPECT_EQ(read(c / "pids.max"), "");
}

TEST_F(CgroupV2Fake, NoSwapAccountingMeansNoSwapFile) {
    with_swap = false;
    auto d = driver();
    d->create("abc123");
    CgroupOptions limits;
    limits.memory = 64ULL << 20;
    d->set_limits(limits);
    EXPECT_EQ(read(container("abc123") / "memory.max"), "67108864");
    EXPECT_FALSE(fake::fs::exists(container("abc123") / "memory.swap.max"));
}

TEST_F(CgroupV2Fake, AddProcessWritesCgroupProcs) {
    auto d = driver();
    d->create("abc123");
    d->add_process(4242);
    EXPECT_EQ(read(container("abc123") / "cgroup.procs"), "4242");
}

TEST_F(CgroupV2Fake, OomKillsComeFromMemoryEvents) {
    auto d = driver();
    d->create("abc123");
    EXPECT_EQ(d->oom_kills(), 0u);
    put(container("abc123") / "memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n");
    EXPECT_EQ(d->oom_kills(), 1u);
}

TEST_F(CgroupV2Fake, AnExistingContainerCgroupIsAnError) {
    fake::fs::create_directories(container("abc123"));
    auto d = driver();
    EXPECT_THROW(d->create("abc123"), nsrun::Error);
}

TEST_F(CgroupV2Fake, RemovalTakesTheContainerAndTheEmptyParent) {
    auto d = driver();
    d->create("abc123");
    forget(root / "nsrun");
    testing::internal::CaptureStderr();
    d->remove();
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_FALSE(fake::fs::exists(container("abc123")));
    EXPECT_FALSE(fake::fs::exists(root / "nsrun"));
    EXPECT_TRUE(fake::fs::exists(root / "cgroup.procs")) << "the root is not ours";
}

TEST_F(CgroupV2Fake, RemovalKeepsAParentOtherContainersUse) {
    auto mine = driver();
    mine->create("mine");
    auto other = driver();
    other->create("other");
    forget(container("mine"));
    testing::internal::CaptureStderr();
    mine->remove();
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << "a busy parent is not worth a warning";
    EXPECT_FALSE(fake::fs::exists(container("mine")));
    EXPECT_TRUE(fake::fs::is_directory(container("other")));
}

TEST_F(CgroupV2Fake, TheCgroupObjectRemovesItsCgroupWhenDestroyed) {
    CgroupOptions limits;
    limits.pids_limit = 10;
    std::optional<Cgroup> cgroup;
    cgroup.emplace(driver(), "abc123", limits);
    EXPECT_EQ(read(container("abc123") / "pids.max"), "10");
    cgroup->add_process(99);
    EXPECT_EQ(read(container("abc123") / "cgroup.procs"), "99");
    forget(root / "nsrun");
    cgroup.reset();
    EXPECT_FALSE(fake::fs::exists(root / "nsrun"));
}

TEST_F(CgroupV2Fake, AnOomKilledContainerExits137WithAMessage) {
    CgroupOptions limits;
    limits.memory = 64ULL << 20;
    Cgroup cgroup{driver(), "abc123", limits};
    EXPECT_EQ(cgroup.exit_status(0), 0);
    EXPECT_EQ(cgroup.exit_status(SIGKILL), 137) << "a wait status of 9 means killed by SIGKILL";
    put(container("abc123") / "memory.events", "oom 1\noom_kill 1\n");
    testing::internal::CaptureStderr();
    EXPECT_EQ(cgroup.exit_status(SIGKILL), 137);
    EXPECT_NE(testing::internal::GetCapturedStderr().find("container killed: out of memory (limit 64 MiB)"),
              std::string::npos);
    forget(root / "nsrun");
}

TEST(CgroupMath, CpusBecomeAQuotaPerPeriod) {
    EXPECT_EQ(cpu_period_us, 100000u);
    EXPECT_EQ(cpu_quota_us(0.5), 50000u);
    EXPECT_EQ(cpu_quota_us(0.2), 20000u);
    EXPECT_EQ(cpu_quota_us(1.5), 150000u);
    EXPECT_EQ(cpu_quota_us(0.01), 1000u) << "the kernel's minimum quota is 1 ms";
}

TEST(CgroupMath, WeightBecomesShares) {
    EXPECT_EQ(cpu_shares_of_weight(100), 1024u) << "the defaults correspond";
    EXPECT_EQ(cpu_shares_of_weight(200), 2048u);
    EXPECT_EQ(cpu_shares_of_weight(1), 10u);
    EXPECT_EQ(cpu_shares_of_weight(10000), 102400u);
}

} // namespace
