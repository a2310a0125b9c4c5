// Unit tests of nsrun/nft.hpp.  libnftables talks to the netfilter of the
// calling thread's network namespace, so the rules are made in a throwaway
// one (a thread that unshares it) and never reach the machine's ruleset.
#include "throwaway_netns.hpp"

#include <nsrun/error.hpp>
#include <nsrun/explain.hpp>
#include <nsrun/nft.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sched.h>
#include <thread>
#include <unistd.h>

namespace {

class Nft : public ThrowawayNetnsTest {};

TEST_F(Nft, BatchIsAppliedAndListed) {
    in_throwaway_netns([] {
        nsrun::nft::Context nft;
        nft.run("add table ip nsrun_test\n"
                "add chain ip nsrun_test post { type nat hook postrouting priority srcnat; policy accept; }\n"
                "add rule ip nsrun_test post ip saddr 10.203.0.0/16 masquerade comment \"ctr-1\"\n");
        const std::string listing = nft.run("list table ip nsrun_test");
        EXPECT_THAT(listing, testing::HasSubstr("masquerade"));
        EXPECT_THAT(listing, testing::HasSubstr("ctr-1"));
    });
}

TEST_F(Nft, AFailedBatchChangesNothingAndSaysWhy) {
    in_throwaway_netns([] {
        nsrun::nft::Context nft;
        try {
            nft.run("add table ip nsrun_test\nadd chain ip nsrun_test c\nadd rule ip nsrun_test nochain accept\n");
            ADD_FAILURE() << "a rule in a missing chain was accepted";
        } catch (const nsrun::Error& e) {
            EXPECT_THAT(e.what(), testing::HasSubstr("No such file or directory"));
        }
        // The batch is one transaction: the table of its first line is not there either.
        std::string error;
        EXPECT_FALSE(nft.try_run("list table ip nsrun_test", &error));
        EXPECT_FALSE(error.empty());
    });
}

TEST_F(Nft, ExplainShowsTheExactRules) {
    in_throwaway_netns([] {
        nsrun::nft::Context nft;
        nsrun::explain::enable(true);
        testing::internal::CaptureStderr();
        nft.run("add table ip nsrun_test");
        const std::string said = testing::internal::GetCapturedStderr();
        nsrun::explain::enable(false);
        EXPECT_THAT(said, testing::HasSubstr("nft: add table ip nsrun_test"));
    });
}

} // namespace
