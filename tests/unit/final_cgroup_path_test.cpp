// final/'s cgroup v2 driver placed at config.json's linux.cgroupsPath,
// against a fake unified tree (fake_cgroupfs.hpp): logic only — which
// directories are made, recorded and passed the controllers.  The real
// kernel's side is proven by tests/final's Oci.CgroupsPath… tests, which
// `make test-vm` runs on a cgroup-v2-only kernel, and by the OCI client tests
// (tests/oci).
#include "fake_cgroupfs.hpp"

#include <nsrun/error.hpp>

namespace {

using fake::fs::path;
using fake::put;
using fake::read;

class CgroupV2PlacedFake : public fake::CgroupfsTest {
protected:
    void SetUp() override {
        CgroupfsTest::SetUp();
        put(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        put(root / "cgroup.subtree_control", "cpu io memory pids\n");
    }
    MkdirHook hook = [](const std::string& dir) {
        const path d{dir};
        put(d / "cgroup.controllers", "cpu memory pids\n");
        put(d / "cgroup.subtree_control", "");
        put(d / "cgroup.procs", "");
    };
    std::unique_ptr<CgroupDriver> driver() { return make_cgroup_v2_driver(root.string(), hook); }
};

TEST_F(CgroupV2PlacedFake, AnAbsoluteCgroupsPathIsBelowTheRootAndOnlyMissingParentsAreOurs) {
    fake::fs::create_directories(root / "kubepods");
    put(root / "kubepods" / "cgroup.subtree_control", "cpu memory pids\n");
    auto d = driver();
    d->place_at("/kubepods/pod1/ctr");
    const CgroupPlan plan = d->plan("ignored-id");
    ASSERT_EQ(plan.directories.size(), 1u);
    EXPECT_EQ(plan.directories.front(), (root / "kubepods" / "pod1" / "ctr").string());
    // kubepods existed: not ours to remove; pod1 is made by nsrun, so recorded.
    EXPECT_EQ(plan.parents, std::vector<std::string>{(root / "kubepods" / "pod1").string()});
    d->create("ignored-id");
    EXPECT_TRUE(fake::fs::is_directory(root / "kubepods" / "pod1" / "ctr"));
    EXPECT_FALSE(fake::fs::exists(root / "nsrun")) << "no nsrun/ parent for a named cgroup";
    EXPECT_EQ(read(root / "kubepods" / "cgroup.subtree_control"), "cpu memory pids\n")
        << "controllers already passed on: left alone";
    EXPECT_EQ(read(root / "kubepods" / "pod1" / "cgroup.subtree_control"), "+memory +cpu +pids")
        << "every cgroup on the way passes the controllers on";
}

TEST_F(CgroupV2PlacedFake, AnExistingCgroupAtTheNamedPathIsRefused) {
    fake::fs::create_directories(root / "taken");
    auto d = driver();
    d->place_at("/taken");
    try {
        d->create("x");
        FAIL() << "an existing cgroup was used";
    } catch (const nsrun::Error& e) {
        EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
    }
}

} // namespace
