// Unit tests of the narrated wrappers in nsrun/sys.hpp that need no root:
// signal masks, signalfd, pidfds (real calls on this process and forked
// children).
#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/sys.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

sigset_t set_of(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (const int sig : signals) {
        sigaddset(&set, sig);
    }
    return set;
}

} // namespace

TEST(Sigprocmask, BlocksAndReturnsThePreviousMaskNarrated) {
    nsrun::explain::enable(true);
    testing::internal::CaptureStderr();
    const sigset_t old = nsrun::sys::sigprocmask(SIG_BLOCK, set_of({SIGUSR1}));
    const std::string narration = testing::internal::GetCapturedStderr();
    nsrun::explain::enable(false);
    EXPECT_NE(narration.find("sigprocmask(SIG_BLOCK, [SIGUSR1]) = 0"), std::string::npos) << narration;
    sigset_t now;
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, nullptr, &now), 0);
    EXPECT_EQ(sigismember(&now, SIGUSR1), 1);
    EXPECT_EQ(sigismember(&old, SIGUSR1), 0);
    nsrun::sys::sigprocmask(SIG_SETMASK, old);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, nullptr, &now), 0);
    EXPECT_EQ(sigismember(&now, SIGUSR1), 0);
}

TEST(Signalfd, ReadsABlockedSignalAsData) {
    const sigset_t usr2 = set_of({SIGUSR2});
    const sigset_t old = nsrun::sys::sigprocmask(SIG_BLOCK, usr2);
    {
        const nsrun::UniqueFd fd = nsrun::sys::signalfd(usr2, SFD_CLOEXEC);
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::raise(SIGUSR2), 0);
        signalfd_siginfo info{};
        ASSERT_EQ(::read(fd.get(), &info, sizeof info), static_cast<ssize_t>(sizeof info));
        EXPECT_EQ(info.ssi_signo, static_cast<unsigned>(SIGUSR2));
    }
    nsrun::sys::sigprocmask(SIG_SETMASK, old);
}

namespace {

/// A child that only waits to be killed.
pid_t fork_pausing_child() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::pause();
        ::_exit(0);
    }
    return pid;
}

} // namespace

TEST(Pidfd, SignalsTheProcessItNames) {
    const pid_t pid = fork_pausing_child();
    ASSERT_GT(pid, 0);
    const nsrun::UniqueFd pidfd = nsrun::sys::pidfd_open(pid);
    nsrun::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    // The pid is gone; the pidfd still names the ended process, never a successor.
    try {
        nsrun::sys::pidfd_send_signal(pidfd.get(), SIGKILL);
        FAIL() << "signalling an ended process through its pidfd should fail";
    } catch (const nsrun::SysError& e) {
        EXPECT_EQ(e.error_number(), ESRCH) << e.what();
    }
}

TEST(Pidfd, OpenOfNoSuchProcessNamesTheCall) {
    try {
        (void)nsrun::sys::pidfd_open(-5);
        FAIL() << "pidfd_open(-5) should fail";
    } catch (const nsrun::SysError& e) {
        EXPECT_NE(std::string(e.what()).find("pidfd_open(-5"), std::string::npos) << e.what();
    }
}

TEST(Pidfd, TryOpenAnswersEmptyForAReapedProcessWithoutThrowing) {
    const pid_t pid = fork_pausing_child();
    ASSERT_GT(pid, 0);
    {
        const nsrun::UniqueFd live = nsrun::sys::try_pidfd_open(pid);
        ASSERT_TRUE(live) << "a live child has a pidfd";
        nsrun::sys::pidfd_send_signal(live.get(), SIGKILL);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_FALSE(nsrun::sys::try_pidfd_open(pid)) << "a reaped pid names no process";
}

TEST(ParentDeathSignal, IsSetAndNarrated) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        nsrun::sys::set_parent_death_signal(SIGTERM);
        int sig = 0;
        ::prctl(PR_GET_PDEATHSIG, &sig);
        ::_exit(sig == SIGTERM ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "PR_GET_PDEATHSIG should read SIGTERM back";
}

TEST(WriteEach, WritesEveryValueInOrderThroughOneOpenFileNarratingEach) {
    char path[] = "/tmp/nsrun-write-each.XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_NE(fd, -1);
    ::close(fd);
    nsrun::explain::enable(true);
    testing::internal::CaptureStderr();
    nsrun::sys::write_each(path, {"a *:* rwm", "c 1:3 rwm", "c 5:0 rwm"});
    const std::string narration = testing::internal::GetCapturedStderr();
    nsrun::explain::enable(false);
    EXPECT_EQ(nsrun::sys::read_file(path), "a *:* rwmc 1:3 rwmc 5:0 rwm") << "one file position: each after the last";
    std::size_t writes = 0;
    for (std::size_t at = narration.find("write("); at != std::string::npos; at = narration.find("write(", at + 1)) {
        ++writes;
    }
    EXPECT_EQ(writes, 3u) << narration;
    EXPECT_NE(narration.find("\"c 5:0 rwm\") = 9"), std::string::npos) << narration;
    ::unlink(path);
    try {
        nsrun::sys::write_each(std::string(path) + "/none", {"x"});
        ADD_FAILURE() << "no such file: must throw";
    } catch (const nsrun::SysError& e) {
        EXPECT_NE(std::string(e.what()).find("open("), std::string::npos) << e.what();
    }
}

TEST(CpuList, WritesRunsAsRangesAsTasksetDoes) {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    EXPECT_EQ(nsrun::sys::cpu_list(cpus), "none");
    for (int cpu : {0, 2, 3, 4, 7, 9, 10}) {
        CPU_SET(cpu, &cpus);
    }
    EXPECT_EQ(nsrun::sys::cpu_list(cpus), "0,2-4,7,9-10");
    CPU_ZERO(&cpus);
    CPU_SET(CPU_SETSIZE - 1, &cpus);
    EXPECT_EQ(nsrun::sys::cpu_list(cpus), std::to_string(CPU_SETSIZE - 1));
}

TEST(SchedAffinity, SetsAndReadsBackTheCallersCpusNarrated) {
    const cpu_set_t all = nsrun::sys::sched_getaffinity();
    ASSERT_GT(CPU_COUNT(&all), 0);
    nsrun::explain::enable(true);
    testing::internal::CaptureStderr();
    nsrun::sys::sched_setaffinity(0, all);
    const std::string narration = testing::internal::GetCapturedStderr();
    nsrun::explain::enable(false);
    EXPECT_NE(narration.find("sched_setaffinity(0, CPUs " + nsrun::sys::cpu_list(all) + ") = 0"), std::string::npos)
        << narration;
    const cpu_set_t again = nsrun::sys::sched_getaffinity();
    EXPECT_TRUE(CPU_EQUAL(&all, &again));
    cpu_set_t none;
    CPU_ZERO(&none);
    try {
        nsrun::sys::sched_setaffinity(0, none);
        ADD_FAILURE() << "no CPU at all: must throw";
    } catch (const nsrun::SysError& e) {
        EXPECT_EQ(e.error_number(), EINVAL) << e.what();
    }
}

