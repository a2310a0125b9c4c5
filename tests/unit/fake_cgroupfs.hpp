// A fake cgroup filesystem in a temporary directory, for the unit tests of
// the cgroup drivers (the latest step's copy).  The test plays the kernel: when a
// driver mkdir()s a cgroup, the MkdirHook fills it with interface files, and
// before removal forget() deletes them again (the kernel lets rmdir remove a
// cgroup with its interface files; a plain directory must be empty).
#pragma once

#include "cgroups.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace fake {

namespace fs = std::filesystem;

inline std::string read(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void put(const fs::path& path, const std::string& content) { std::ofstream(path) << content; }

/// A temporary directory standing for /sys/fs/cgroup, removed at the end.
class CgroupfsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "nsrun-fake-cgroupfs-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root = pattern;
    }
    void TearDown() override { fs::remove_all(root); }

    /// What the kernel does to a cgroup's directory on rmdir: its interface
    /// files go with it.  Here: delete the regular files below `dir`.
    void forget(const fs::path& dir) {
        for (const auto& entry : fs::recursive_directory_iterator(dir)) {
            if (entry.is_regular_file()) {
                fs::remove(entry.path());
            }
        }
    }

    /// Every regular file under the root with its content, relative paths.
    std::map<std::string, std::string> files() {
        std::map<std::string, std::string> all;
        for (const auto& entry : fs::recursive_directory_iterator(root)) {
            if (entry.is_regular_file()) {
                all[fs::relative(entry.path(), root).string()] = read(entry.path());
            }
        }
        return all;
    }

    fs::path root;
};

} // namespace fake
