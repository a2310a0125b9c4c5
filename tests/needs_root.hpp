// The one policy for tests that need root (namespaces, netlink, nftables):
// without root they are skipped with the reason, except in CI (CI=true),
// where a skipped kernel test would hide an untested feature, so it fails.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>
#include <unistd.h>

/// Use first thing in a fixture's SetUp(): returns from it (skip or failure)
/// unless we are root.  `what` says what the test needs root for.
#define NSRUN_REQUIRE_ROOT(what)                                                                          \
    do {                                                                                                  \
        if (::geteuid() != 0) {                                                                           \
            const char* ci_ = std::getenv("CI");                                                          \
            if (ci_ && std::string_view(ci_) == "true") {                                                 \
                FAIL() << "this test " << (what)                                                          \
                       << " and needs root; in CI (CI=true) a skipped kernel test is a failure";          \
            }                                                                                             \
            GTEST_SKIP() << "this test " << (what) << " and needs root (run: sudo make test)";           \
        }                                                                                                 \
    } while (0)
