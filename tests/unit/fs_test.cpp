// Unit tests of nsrun/fs.hpp, on a fresh temporary directory of the host.
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/fs.hpp>
#include <nsrun/sys.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

class Fs : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/nsrun-fs-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    [[nodiscard]] std::string path(const std::string& name) const { return dir_ + "/" + name; }

    std::string dir_;
};

} // namespace

TEST(KeyedValue, FindsTheKeysLineAndOnlyIt) {
    const std::string events = "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n";
    EXPECT_EQ(nsrun::fs::keyed_value_in(events, "oom_kill"), 1u);
    EXPECT_EQ(nsrun::fs::keyed_value_in(events, "oom"), 2u) << "a key is a whole word, not a prefix";
    EXPECT_EQ(nsrun::fs::keyed_value_in(events, "max"), 4u);
    EXPECT_FALSE(nsrun::fs::keyed_value_in(events, "kill").has_value());
    EXPECT_FALSE(nsrun::fs::keyed_value_in("", "oom_kill").has_value());
    EXPECT_EQ(nsrun::fs::keyed_value_in("oom_kill 7", "oom_kill"), 7u) << "no trailing newline";
}

TEST(KeyedValue, SkipsLinesWithoutANumber) {
    EXPECT_FALSE(nsrun::fs::keyed_value_in("oom_kill many\n", "oom_kill").has_value());
    EXPECT_EQ(nsrun::fs::keyed_value_in("oom_kill x\noom_kill 3\n", "oom_kill"), 3u);
}

TEST_F(Fs, KeyedValueReadsAFileAndGivesZeroForAMissingKey) {
    const std::string file = path("memory.events");
    nsrun::fs::write_file_atomic(file, "oom 0\noom_kill 5\n");
    EXPECT_EQ(nsrun::fs::keyed_value(file, "oom_kill"), 5u);
    EXPECT_EQ(nsrun::fs::keyed_value(file, "absent"), 0u);
    EXPECT_THROW((void)nsrun::fs::keyed_value(path("no-such-file"), "oom_kill"), nsrun::SysError);
}

TEST_F(Fs, ExistsAndIsDirectoryTellFilesFromDirectories) {
    const std::string file = path("file");
    nsrun::fs::write_file_atomic(file, "x");
    EXPECT_TRUE(nsrun::fs::exists(file));
    EXPECT_FALSE(nsrun::fs::is_directory(file));
    EXPECT_TRUE(nsrun::fs::exists(dir_));
    EXPECT_TRUE(nsrun::fs::is_directory(dir_));
    EXPECT_FALSE(nsrun::fs::exists(path("absent")));
    EXPECT_FALSE(nsrun::fs::is_directory(path("absent")));
}

TEST_F(Fs, MakeDirsMakesEveryMissingLevelAndAcceptsExistingOnes) {
    const std::string deep = path("a/b//c/");
    nsrun::fs::make_dirs(deep, 0700);
    EXPECT_TRUE(nsrun::fs::is_directory(path("a/b/c")));
    struct stat st {};
    ASSERT_EQ(::stat(path("a/b/c").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_NO_THROW(nsrun::fs::make_dirs(path("a/b/c")));
}

TEST_F(Fs, MakeDirsFailsWithTheCallOnAFileInTheWay) {
    nsrun::fs::write_file_atomic(path("file"), "x");
    try {
        nsrun::fs::make_dirs(path("file/sub"));
        FAIL() << "make_dirs through a file should throw";
    } catch (const nsrun::SysError& e) {
        EXPECT_NE(std::string(e.what()).find("mkdir("), std::string::npos) << e.what();
    }
}

TEST_F(Fs, WriteFileAtomicReplacesTheWholeFileAndLeavesNoTemporary) {
    const std::string file = path("state.json");
    nsrun::fs::write_file_atomic(file, "first, a longer text\n");
    nsrun::fs::write_file_atomic(file, "second\n", 0600);
    EXPECT_EQ(nsrun::sys::read_file(file), "second\n") << "the old, longer content must be gone entirely";
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) {
        ++entries;
    }
    EXPECT_EQ(entries, 1u) << "no temporary file may remain beside it";
}

TEST_F(Fs, WriteFileAtomicIntoAMissingDirectoryThrowsAndLeavesNothing) {
    EXPECT_THROW(nsrun::fs::write_file_atomic(path("missing/file"), "x"), nsrun::SysError);
    EXPECT_FALSE(nsrun::fs::exists(path("missing")));
}

TEST_F(Fs, FileLockExcludesAnotherHolderUntilReleased) {
    const std::string lock_path = path("lock");
    {
        const nsrun::fs::FileLock held(lock_path);
        // flock(2) locks belong to an open file description: a second open in
        // this very process is another holder, like another runtime would be.
        EXPECT_FALSE(nsrun::fs::FileLock::try_acquire(lock_path).has_value());
        // And a process that dies holding it releases it (the kernel closes its fds).
        const pid_t child = ::fork();
        if (child == 0) {
            ::_exit(nsrun::fs::FileLock::try_acquire(lock_path).has_value() ? 1 : 0);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        EXPECT_EQ(WEXITSTATUS(status), 0) << "another process must not get the lock while we hold it";
    }
    EXPECT_TRUE(nsrun::fs::FileLock::try_acquire(lock_path).has_value()) << "released with the object";
}

TEST_F(Fs, FileLockReleaseFreesItAlsoForAChildHoldingTheDescriptor) {
    const std::string lock_path = path("lock");
    nsrun::fs::FileLock held(lock_path);
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    const pid_t child = ::fork(); // shares the locked descriptor, as a cloned container does
    if (child == 0) {
        char byte = 0;
        (void)::read(go[0], &byte, 1); // the parent has released it
        ::_exit(nsrun::fs::FileLock::try_acquire(lock_path).has_value() ? 0 : 1);
    }
    held.release();
    EXPECT_TRUE(nsrun::fs::FileLock::try_acquire(lock_path).has_value()) << "released while the child holds a copy";
    ASSERT_EQ(::write(go[1], "g", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ::close(go[0]);
    ::close(go[1]);
}

TEST_F(Fs, FileLockIsNarrated) {
    nsrun::explain::enable(true);
    testing::internal::CaptureStderr();
    { const nsrun::fs::FileLock held(path("lock")); }
    const std::string narration = testing::internal::GetCapturedStderr();
    nsrun::explain::enable(false);
    EXPECT_NE(narration.find("flock("), std::string::npos) << narration;
    EXPECT_NE(narration.find("LOCK_EX) = 0"), std::string::npos) << narration;
}
