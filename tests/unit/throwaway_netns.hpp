// A base for unit tests that need the real kernel's networking (netlink,
// nftables) without touching the machine's: each test body runs on a thread
// that first moves into a fresh network namespace, which dies with the thread.
#pragma once

#include "../needs_root.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <sched.h>
#include <thread>
#include <unistd.h>

/// Root needed: the policy of tests/needs_root.hpp.
class ThrowawayNetnsTest : public ::testing::Test {
protected:
    void SetUp() override { NSRUN_REQUIRE_ROOT("creates a network namespace"); }

    /// Run `body` on a thread that first unshares its network namespace: the
    /// namespace (and every link or rule made in it) goes away with the
    /// thread, and the rest of the test process stays where it was.
    static void in_throwaway_netns(const std::function<void()>& body) {
        std::thread worker([&] {
            ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << std::strerror(errno);
            body();
        });
        worker.join();
    }
};
