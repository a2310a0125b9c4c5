// Unit tests of nsrun/explain.hpp: strace-like quoting and results.
#include <nsrun/explain.hpp>

#include <cerrno>
#include <gtest/gtest.h>

TEST(Quote, EscapesLikeStrace) {
    EXPECT_EQ(nsrun::explain::quote(std::string_view{"box"}), "\"box\"");
    EXPECT_EQ(nsrun::explain::quote(std::string_view{"a\"b\n"}), "\"a\\\"b\\n\"");
    EXPECT_EQ(nsrun::explain::quote(static_cast<const char*>(nullptr)), "NULL");
}

TEST(Quote, ShowsArgumentVectors) {
    EXPECT_EQ(nsrun::explain::quote(std::vector<std::string>{"sh", "-c", "ls"}), "[\"sh\", \"-c\", \"ls\"]");
}

TEST(Result, ShowsValueOrErrno) {
    EXPECT_EQ(nsrun::explain::result(0, 0), "= 0");
    EXPECT_EQ(nsrun::explain::result(4242, 0), "= 4242");
    EXPECT_EQ(nsrun::explain::result(-1, EPERM), "= -1 EPERM (Operation not permitted)");
}

TEST(Note, IsSilentWhenDisabled) {
    nsrun::explain::enable(false);
    testing::internal::CaptureStderr();
    nsrun::explain::note("mount({})", 1);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Note, PrefixesTheRoleWhenEnabled) {
    nsrun::explain::enable(true);
    nsrun::explain::set_role("child");
    testing::internal::CaptureStderr();
    nsrun::explain::note("sethostname({})", nsrun::explain::quote(std::string_view{"box"}));
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "[child] sethostname(\"box\")\n");
    nsrun::explain::enable(false);
    nsrun::explain::set_role("parent");
}
