// Unit tests of capability set arithmetic (final/caps.cpp): docker's
// --cap-add/--cap-drop/--privileged rules and the five OCI sets.  Pure
// logic: the "available" set is given, only name lookup asks libcap.
#include "caps.hpp"

#include <nsrun/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace {

using Names = std::vector<std::string>;

const Names every = {"CAP_CHOWN",     "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",  "CAP_FSETID",
                     "CAP_KILL",      "CAP_SETGID",       "CAP_SETUID",          "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                     "CAP_NET_ADMIN", "CAP_NET_RAW",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE", "CAP_SYS_ADMIN",
                     "CAP_MKNOD",     "CAP_AUDIT_WRITE",  "CAP_SETFCAP"};

bool has(const Names& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

TEST(FinalCaps, TheDefaultIsDockers14) {
    const Names set = capability_set({}, {}, false, every);
    EXPECT_EQ(set.size(), 14u);
    EXPECT_EQ(capability_mask(set), 0xa80425fbULL) << "docker's CapBnd in /proc/PID/status";
    EXPECT_FALSE(has(set, "CAP_SYS_ADMIN"));
    EXPECT_FALSE(has(set, "CAP_NET_ADMIN"));
}

TEST(FinalCaps, AddAndDropChangeTheDefault) {
    const Names set = capability_set({"CAP_NET_ADMIN"}, {"CAP_NET_RAW", "CAP_MKNOD"}, false, every);
    EXPECT_TRUE(has(set, "CAP_NET_ADMIN"));
    EXPECT_FALSE(has(set, "CAP_NET_RAW"));
    EXPECT_FALSE(has(set, "CAP_MKNOD"));
    EXPECT_EQ(set.size(), 13u);
}

TEST(FinalCaps, DropAllKeepsOnlyTheAdded) {
    EXPECT_TRUE(capability_set({}, {"ALL"}, false, every).empty());
    EXPECT_EQ(capability_set({"CAP_KILL"}, {"ALL"}, false, every), Names{"CAP_KILL"});
}

TEST(FinalCaps, AddAllAndPrivilegedAreEveryAvailableButTheDropped) {
    EXPECT_EQ(capability_set({}, {}, true, every).size(), every.size());
    const Names set = capability_set({"ALL"}, {"CAP_SYS_ADMIN"}, false, every);
    EXPECT_EQ(set.size(), every.size() - 1);
    EXPECT_FALSE(has(set, "CAP_SYS_ADMIN"));
}

TEST(FinalCaps, TheResultIsInCapabilityOrder) {
    const Names set = capability_set({"CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH"}, {"ALL"}, false, every);
    EXPECT_EQ(set, (Names{"CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN"}));
}

TEST(FinalCaps, AddingWhatTheRuntimeLacksIsRefused) {
    EXPECT_THROW((void)capability_set({"CAP_SYS_MODULE"}, {}, false, every), nsrun::Error);
    // The default and ALL quietly stay within what is available.
    EXPECT_FALSE(has(capability_set({"ALL"}, {}, false, {"CAP_KILL"}), "CAP_CHOWN"));
    EXPECT_EQ(capability_set({}, {}, false, {"CAP_KILL"}), Names{"CAP_KILL"});
}

TEST(FinalCaps, NamesAreNormalizedAndUnknownOnesRefused) {
    EXPECT_EQ(normalize_capability("net_admin", "--cap-add"), "CAP_NET_ADMIN");
    EXPECT_EQ(normalize_capability("NET_ADMIN", "--cap-add"), "CAP_NET_ADMIN");
    EXPECT_EQ(normalize_capability("cap_net_admin", "--cap-add"), "CAP_NET_ADMIN");
    EXPECT_EQ(normalize_capability("all", "--cap-drop"), "ALL");
    for (const char* bad : {"foo", "CAP_", "12", "cap_12", "", "NET ADMIN"}) {
        EXPECT_THROW((void)normalize_capability(bad, "--cap-add"), nsrun::Error) << bad;
    }
}

TEST(FinalCaps, ANonRootUserHasNoEffectiveOrPermittedCapabilities) {
    const Names set = capability_set({}, {}, false, every);
    const Capabilities root = capabilities_for(set, {0, 0});
    EXPECT_EQ(root.effective, set);
    EXPECT_EQ(root.permitted, set);
    EXPECT_TRUE(root.ambient.empty());
    const Capabilities user = capabilities_for(set, {1000, 1000});
    EXPECT_EQ(user.bounding, set);
    EXPECT_EQ(user.inheritable, set);
    EXPECT_TRUE(user.effective.empty());
    EXPECT_TRUE(user.permitted.empty());
    EXPECT_TRUE(user.ambient.empty());
}
