// Unit tests of nsrun/identity.hpp: a process named by pid and start time.
// Real processes (this test and forked children), no namespaces.
#include <nsrun/identity.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace {

/// A forked child that sleeps until killed; reaped by the caller.
pid_t sleeping_child() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    return pid;
}

} // namespace

TEST(ProcStat, ReadsStateAndStartTimeAfterTheCommandName) {
    // Field 2 may hold spaces and ')': fields are counted after the last ')'.
    const std::string line =
        "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 200 "
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
    const auto stat = nsrun::parse_proc_stat(line);
    ASSERT_TRUE(stat.has_value());
    EXPECT_EQ(stat->state, 'S');
    EXPECT_EQ(stat->start_time, 987654u);
}

TEST(ProcStat, RefusesTruncatedOrGarbledLines) {
    EXPECT_FALSE(nsrun::parse_proc_stat("").has_value());
    EXPECT_FALSE(nsrun::parse_proc_stat("4242 (sh) S 1 2 3").has_value()) << "fewer than 22 fields";
    EXPECT_FALSE(nsrun::parse_proc_stat("4242 sh S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20").has_value())
        << "no ')' after the command name";
    EXPECT_FALSE(
        nsrun::parse_proc_stat("4242 (sh) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x 20").has_value())
        << "a start time that is no number";
}

TEST(ProcessIdentity, RoundTripsThroughItsText) {
    const nsrun::ProcessIdentity id{4242, 987654};
    EXPECT_EQ(id.str(), "4242 987654");
    EXPECT_EQ(nsrun::ProcessIdentity::parse(id.str()), id);
    EXPECT_EQ(nsrun::ProcessIdentity::parse("  4242 987654\n"), id);
}

TEST(ProcessIdentity, ABarePidHasAnUnknownStartTime) {
    EXPECT_EQ(nsrun::ProcessIdentity::parse("4242\n"), (nsrun::ProcessIdentity{4242, 0}));
}

TEST(ProcessIdentity, EmptyOrGarbledTextNamesNobody) {
    for (const char* text : {"", "\n", "abc", "0 5", "-3 5", "4242 x", "4242 5 6", "4242x"}) {
        EXPECT_FALSE(nsrun::ProcessIdentity::parse(text).has_value()) << "'" << text << "'";
    }
}

TEST(IsAlive, TheCallingProcessIsAlive) {
    const auto self = nsrun::ProcessIdentity::self();
    EXPECT_EQ(self.pid, ::getpid());
    EXPECT_GT(self.start_time, 0u);
    EXPECT_TRUE(nsrun::is_alive(self));
    EXPECT_EQ(nsrun::ProcessIdentity::of(::getpid()), self);
}

TEST(IsAlive, ADifferentStartTimeIsAnotherProcess) {
    // What a reused pid looks like: the same number, a later start.
    auto stranger = nsrun::ProcessIdentity::self();
    stranger.start_time += 1;
    EXPECT_FALSE(nsrun::is_alive(stranger));
}

TEST(IsAlive, AnEndedProcessIsDeadBeforeAndAfterItIsReaped) {
    const pid_t pid = sleeping_child();
    ASSERT_GT(pid, 0);
    const auto child = nsrun::ProcessIdentity::of(pid);
    ASSERT_TRUE(child.has_value());
    EXPECT_TRUE(nsrun::is_alive(*child));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    // Unreaped, it is a zombie: ended, holding nothing.  Wait until it is one.
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
    EXPECT_FALSE(nsrun::is_alive(*child)) << "a zombie is not alive";
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
    EXPECT_FALSE(nsrun::is_alive(*child)) << "a reaped process is not alive";
    EXPECT_FALSE(nsrun::ProcessIdentity::of(pid).has_value());
}

TEST(IsAlive, NoPidIsNeverAlive) { EXPECT_FALSE(nsrun::is_alive(nsrun::ProcessIdentity{0, 0})); }

namespace {

/// A file in a fresh temporary directory, removed with it.
struct RecordFile {
    std::string dir;
    std::string path;
    RecordFile() {
        char pattern[] = "/tmp/nsrun-identity-XXXXXX";
        dir = ::mkdtemp(pattern);
        path = dir + "/record";
    }
    ~RecordFile() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
    void write(const std::string& text) const { std::ofstream(path) << text; }
};

} // namespace

TEST(RecordOwner, ARecordOfALiveProcessIsNotGone) {
    const RecordFile record;
    record.write(nsrun::ProcessIdentity::self().str() + "\n");
    EXPECT_FALSE(nsrun::record_owner_is_gone(record.path));
}

TEST(RecordOwner, AMissingEmptyOrGarbledRecordIsGone) {
    const RecordFile record;
    EXPECT_TRUE(nsrun::record_owner_is_gone(record.path)) << "missing";
    record.write("");
    EXPECT_TRUE(nsrun::record_owner_is_gone(record.path)) << "empty: its writer was killed before writing";
    record.write("garbage\n");
    EXPECT_TRUE(nsrun::record_owner_is_gone(record.path)) << "garbled";
}

TEST(RecordOwner, ARecordWhoseStartTimeDiffersIsGone) {
    const RecordFile record;
    const auto self = nsrun::ProcessIdentity::self();
    record.write(nsrun::ProcessIdentity{self.pid, self.start_time + 1}.str() + "\n");
    EXPECT_TRUE(nsrun::record_owner_is_gone(record.path)) << "same pid, another process";
}
