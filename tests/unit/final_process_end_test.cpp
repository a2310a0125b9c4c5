// Unit tests of process_end.hpp: after nothing_more_to_free(), operator
// delete hands nothing back to malloc.  Each test runs in a forked child:
// the switch is for the rest of a process's life.
#include "process_end.hpp"

#include <gtest/gtest.h>

#include <malloc.h>
#include <memory>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int blocks = 64;
constexpr std::size_t block_size = 4096;

/// Bytes malloc counts as in use after allocating and deleting `blocks`
/// blocks, minus before — in a child, whose exit status is 0 when the
/// growth is at least `at_least` and at most `at_most`.
int growth_in_child(bool stop_freeing, std::size_t at_least, std::size_t at_most) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const std::size_t before = ::mallinfo2().uordblks;
        if (stop_freeing) {
            nsrun::nothing_more_to_free();
        }
        for (int i = 0; i < blocks; ++i) {
            auto block = std::make_unique<char[]>(block_size);
            block[0] = 1;
        }
        const std::size_t grown = ::mallinfo2().uordblks - before;
        ::_exit(grown >= at_least && grown <= at_most ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST(FinalProcessEnd, DeleteFreesUntilTold) {
    // One block's room at most stays in use: each delete gave the last one back.
    EXPECT_EQ(growth_in_child(false, 0, 2 * block_size), 0);
}

TEST(FinalProcessEnd, AfterNothingMoreToFreeDeleteKeepsEveryBlock) {
    EXPECT_EQ(growth_in_child(true, blocks * block_size, 2 * blocks * block_size), 0);
}
