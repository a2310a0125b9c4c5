// -v HOST:CONTAINER[:ro|rw], the mount itself: ro is read-only from
// inside, rw writes reach the host, the mount is the container's alone, and
// inspect lists it.  (The refusals of bad -v arguments are in volumes_test.cpp.)
#include "fixture.hpp"

#include <filesystem>
#include <fstream>

namespace lab {
namespace {

namespace fs = std::filesystem;

class VolumeMounts : public NsrunTest {};

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
}

STEP_TEST(VolumeMounts, ReadOnlyIsReadOnlyFromInside,
          "a :ro volume shows the host's files and refuses writes with EROFS") {
    TempDir data;
    write_file(data.path() + "/hello", "from the host");
    const Result r = nsrun({"run", "--rm", "--network", "none", "-v", data.path() + ":/data:ro", "--", "sh", "-c",
                            "echo content=$(cat /data/hello); lab-probe writable /data; echo x > /data/new; echo wrote=$?"});
    EXPECT_EQ(r.status, 0) << r;
    EXPECT_EQ(value(r.out, "content"), "from the host") << r;
    EXPECT_EQ(value(r.out, "writable"), "0") << r;
    EXPECT_EQ(value(r.out, "errno"), "EROFS") << r;
    EXPECT_NE(value(r.out, "wrote"), "0") << r;
    EXPECT_FALSE(fs::exists(data.path() + "/new"));
}

STEP_TEST(VolumeMounts, ReadWriteWritesReachTheHost,
          "a volume without a mode or with :rw is writable and the writes reach the host directory") {
    TempDir data;
    for (const std::string suffix : {"", ":rw"}) {
        const Result r = nsrun({"run", "--rm", "--network", "none", "-v", data.path() + ":/data" + suffix, "--", "sh",
                                "-c", "lab-probe writable /data && echo written > /data/out" + suffix.substr(suffix.empty() ? 0 : 1)});
        EXPECT_EQ(r.status, 0) << r;
        EXPECT_EQ(value(r.out, "writable"), "1") << r;
    }
    EXPECT_EQ(read_file(data.path() + "/out"), "written");
    EXPECT_EQ(read_file(data.path() + "/outrw"), "written");
}

STEP_TEST(VolumeMounts, TheMountIsTheContainersAlone,
          "the volume is in the container's mount table and not in the host's") {
    TempDir data;
    const Result r = nsrun({"run", "--rm", "--network", "none", "-v", data.path() + ":/data", "--", "lab-probe", "mounts"});
    bool seen = false;
    for (const auto& m : values(r.out, "mount")) {
        seen = seen || m.starts_with("/data ");
    }
    EXPECT_TRUE(seen) << "the container sees its volume in its mount table" << r;
    for (const auto& m : snapshot().mounts) {
        EXPECT_FALSE(m.starts_with("/data ")) << "the host sees the container's volume: " << m;
    }
}

STEP_TEST(VolumeMounts, InspectListsTheVolume,
          "inspect of a container with a volume shows the host path and the destination")
{
    TempDir volume;
    detach({"--name", "vol", "--network", "none", "-v", volume.path() + ":/data:ro", "--", "sleep", "1000"});
    const std::string text = inspect("vol").dump();
    EXPECT_NE(text.find(volume.path()), std::string::npos) << text;
    EXPECT_NE(text.find("/data"), std::string::npos) << text;
}

} // namespace
} // namespace lab
