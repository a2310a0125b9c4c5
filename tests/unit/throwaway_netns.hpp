// A base for unit tests that need the real kernel's networking (netlink,
// nftables) without touching the machine's: each test body runs on a thread
// that first moves into a fresh network namespace, which dies with the thread.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sched.h>
#include <string>
#include <thread>
#include <unistd.h>

/// Root needed; in CI (CI=true) a skipped kernel test is a failure (the same
/// policy as lab::KernelTest in tests/steps/harness.cpp).
class ThrowawayNetnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() == 0) {
            return;
        }
        const char* ci = std::getenv("CI");
        if (ci && std::string(ci) == "true") {
            FAIL() << "this test creates a network namespace and needs root; in CI a skip is a failure";
        }
        GTEST_SKIP() << "needs root to create a network namespace (run: sudo make test)";
    }

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
