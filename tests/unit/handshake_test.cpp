// Unit tests of nsrun/handshake.hpp and process.hpp with plain fork(2)
// children (no namespaces: this is the protocol, not the kernel feature).
#include <nsrun/handshake.hpp>
#include <nsrun/process.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace {

/// Fork a child that runs `body` after the parent releases it.
template <typename Body>
pid_t fork_child(nsrun::Handshake& hs, Body body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        hs.in_child();
        try {
            hs.wait_for_parent();
            body();
        } catch (const nsrun::Error& e) {
            hs.fail(e);
        }
        ::_exit(0);
    }
    hs.in_parent();
    return pid;
}

int reap(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

} // namespace

TEST(Handshake, SuccessfulExecIsEndOfFile) {
    auto hs = nsrun::Handshake::create();
    const pid_t pid = fork_child(hs, [&] { nsrun::exec_command({"true"}, hs); });
    hs.release_child();
    EXPECT_FALSE(hs.wait_for_exec().has_value());
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 0);
}

TEST(Handshake, SetupFailureReachesTheParentWithItsHint) {
    auto hs = nsrun::Handshake::create();
    const pid_t pid = fork_child(hs, [] { throw nsrun::Error("mount failed", "run as root"); });
    hs.release_child();
    const auto failure = hs.wait_for_exec();
    ASSERT_TRUE(failure.has_value());
    EXPECT_STREQ(failure->what(), "mount failed");
    EXPECT_EQ(failure->hint(), "run as root");
    EXPECT_EQ(failure->exit_status(), 125);
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 125);
}

TEST(Handshake, CommandNotFoundIs127) {
    auto hs = nsrun::Handshake::create();
    const pid_t pid = fork_child(hs, [&] { nsrun::exec_command({"/nonexistent/command"}, hs); });
    hs.release_child();
    const auto failure = hs.wait_for_exec();
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(failure->exit_status(), 127);
    EXPECT_THAT(failure->what(), testing::HasSubstr("/nonexistent/command"));
    reap(pid);
}

TEST(Handshake, NotExecutableIs126) {
    auto hs = nsrun::Handshake::create();
    const pid_t pid = fork_child(hs, [&] { nsrun::exec_command({"/etc/passwd"}, hs); });
    hs.release_child();
    const auto failure = hs.wait_for_exec();
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(failure->exit_status(), 126);
    reap(pid);
}

TEST(Handshake, AnyExceptionInTheChildIsAFailureNotASuccess) {
    // Not an nsrun::Error: the catch-all reports it instead of std::terminate.
    auto hs = nsrun::Handshake::create();
    const pid_t pid = ::fork();
    if (pid == 0) {
        hs.in_child();
        try {
            hs.wait_for_parent();
            throw std::out_of_range("basic_string::substr");
        } catch (...) {
            hs.fail(std::current_exception());
        }
    }
    hs.in_parent();
    hs.release_child();
    const auto failure = hs.wait_for_exec();
    ASSERT_TRUE(failure.has_value()) << "an exception in the child was taken for a successful exec";
    EXPECT_EQ(failure->exit_status(), 125);
    EXPECT_THAT(failure->what(), testing::HasSubstr("basic_string::substr"));
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 125);
}

TEST(Handshake, AChildThatDiesSilentlyDuringSetupIsAFailure) {
    // What std::terminate (or a SIGKILL) does: the child's end closes with
    // no "ready" and no report.  End-of-file alone must not read as success.
    auto hs = nsrun::Handshake::create();
    const pid_t pid = fork_child(hs, [] { ::abort(); });
    hs.release_child();
    const auto failure = hs.wait_for_exec();
    ASSERT_TRUE(failure.has_value()) << "a child that died during setup was taken for a successful exec";
    EXPECT_EQ(failure->exit_status(), 125);
    EXPECT_THAT(failure->what(), testing::HasSubstr("during setup"));
    reap(pid);
}

TEST(Handshake, TypedMessagesArriveInOrderAndAnUnexpectedOneIsAnError) {
    using Message = nsrun::Handshake::Message;
    auto hs = nsrun::Handshake::create();
    const pid_t pid = ::fork();
    if (pid == 0) {
        hs.in_child();
        try {
            hs.expect(Message::go);
            hs.send(Message::maps_written);
            hs.expect(Message::go); // the parent sends "ready" instead: an error
            ::_exit(0);
        } catch (const nsrun::Error&) {
            ::_exit(3);
        }
    }
    hs.in_parent();
    hs.send(Message::go);
    EXPECT_NO_THROW(hs.expect(Message::maps_written));
    hs.send(Message::ready);
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 3);
    EXPECT_THROW(hs.expect(Message::go), nsrun::Error) << "end-of-file is not the expected message";
}

TEST(Handshake, ChildSeesTheParentGoAway) {
    auto hs = nsrun::Handshake::create();
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        hs.in_child();
        ::close(pipe_fds[1]);
        char c;
        (void)::read(pipe_fds[0], &c, 1); // wait until the "parent" end is closed
        try {
            hs.wait_for_parent();
            ::_exit(0);
        } catch (const nsrun::Error&) {
            ::_exit(9);
        }
    }
    ::close(pipe_fds[0]);
    hs.in_parent();
    hs = nsrun::Handshake::create(); // drops our end of the first pair: the child reads EOF
    ::close(pipe_fds[1]);
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 9);
}

TEST(ExitStatus, SignalIs128PlusN) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::raise(SIGKILL);
    }
    EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 137);
}

TEST(Handshake, GoCarriesTheOutsidesNewsToTheChild) {
    for (const std::string news : {"", "cgroup"}) {
        auto hs = nsrun::Handshake::create();
        const pid_t pid = ::fork();
        if (pid == 0) {
            hs.in_child();
            const std::string heard = hs.wait_for_parent();
            ::_exit(heard == news ? 0 : 1);
        }
        hs.in_parent();
        hs.release_child(news);
        EXPECT_EQ(nsrun::exit_status_of(reap(pid)), 0) << "news \"" << news << "\" arrived changed";
    }
}
