// -v HOST:CONTAINER[:ro|rw]: a host directory bind-mounted into the
// container.  A missing or relative host path is refused with 125 before
// anything is made, and the destination is created inside the rootfs —
// never outside it, even through `..` or a symlink in the rootfs.  (The
// mount itself, ro and rw: volume_mounts_test.cpp.)
#include "fixture.hpp"

#include <filesystem>
#include <fstream>

namespace lab {
namespace {

namespace fs = std::filesystem;

class Volumes : public NsrunTest {
protected:
    /// A private copy of the lab rootfs (destinations are created in it).
    std::string own_rootfs(const TempDir& dir) {
        const std::string root = dir.path() + "/rootfs";
        fs::copy(config().rootfs, root, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
        return root;
    }
};

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

STEP_TEST(Volumes, AMissingHostPathIsRefusedWith125,
          "a missing host path is refused with 125, naming it; nsrun neither creates it nor any container state") {
    TempDir data;
    const std::string missing = data.path() + "/not-there";
    const Result r = nsrun({"run", "--name", "v1", "--network", "none", "-v", missing + ":/data", "--", "lab-probe", "pid"});
    EXPECT_EQ(r.status, 125) << r;
    EXPECT_NE(r.err.find(missing), std::string::npos) << "the message names the path" << r;
    EXPECT_EQ(value(r.out, "pid"), "") << r;
    EXPECT_FALSE(fs::exists(missing)) << "nsrun must not create the host path";
    EXPECT_TRUE(state_ids().empty()) << "nothing is created before the check";
    EXPECT_EQ(nsrun({"inspect", "v1"}).status, 125);
}

STEP_TEST(Volumes, ARelativeHostPathIsRefusedWith125,
          "relative host paths (data, ./data, ../tmp) are refused with 125 before anything is created") {
    for (const std::string spec : {"data:/data", "./data:/data", "../tmp:/data"}) {
        const Result r = nsrun({"run", "--network", "none", "-v", spec, "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 125) << spec << r;
        EXPECT_EQ(value(r.out, "pid"), "") << r;
    }
    EXPECT_TRUE(state_ids().empty());
}

STEP_TEST(Volumes, ABadModeOrDestinationIsRefusedWith125,
          "a mode other than ro/rw, a relative destination or a missing destination is refused with 125") {
    TempDir data;
    for (const auto& spec : std::vector<std::string>{data.path() + ":/data:rx", data.path() + ":data", data.path()}) {
        const Result r = nsrun({"run", "--network", "none", "-v", spec, "--", "lab-probe", "pid"});
        EXPECT_EQ(r.status, 125) << spec << r;
    }
    EXPECT_TRUE(state_ids().empty());
}

STEP_TEST(Volumes, TheDestinationIsCreatedInsideTheRootfsOnly,
          "a missing destination is created inside the rootfs; '..' and a symlink in the rootfs never make it land on the host") {
    TempDir data;
    TempDir scratch;
    const std::string root = own_rootfs(scratch);
    const std::string outside = scratch.path() + "/outside";
    fs::create_directory(outside);
    // A symlink in the rootfs that points, as the host would read it, outside.
    fs::create_directory_symlink(outside, root + "/escape");
    write_file(data.path() + "/mark", "here");
    const std::string host_twin = "/nsrun-volume-test-" + std::to_string(::getpid());
    for (const auto& dest : std::vector<std::string>{"/new/deep/dir", "/../../.." + host_twin, "/escape/sub"}) {
        const Result r = nsrun({"run", "--rm", "--network", "none", "--rootfs", root, "-v", data.path() + ":" + dest,
                                "--", "sh", "-c", "cat " + dest + "/mark"});
        EXPECT_TRUE(r.status == 0 || r.status == 125) << dest << r;
        if (r.status == 0) {
            EXPECT_EQ(first_line(r.out), "here") << dest << r;
        }
    }
    EXPECT_TRUE(fs::is_directory(root + "/new/deep/dir")) << "made inside the rootfs";
    EXPECT_FALSE(fs::exists(host_twin)) << "'..' climbed out of the rootfs";
    EXPECT_FALSE(fs::exists(outside + "/sub")) << "the symlink was followed on the host";
    EXPECT_FALSE(fs::exists("/new/deep/dir"));
}

} // namespace
} // namespace lab
