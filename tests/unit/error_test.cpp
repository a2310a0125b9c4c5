// Unit tests of nsrun/error.hpp: messages name the call and the errno text.
#include <nsrun/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using ::testing::HasSubstr;

TEST(ErrorText, NamesAndDescribesErrno) {
    EXPECT_EQ(nsrun::errno_text(ENOENT), "ENOENT (No such file or directory)");
    EXPECT_EQ(nsrun::errno_name(EPERM), "EPERM");
}

TEST(SysError, MessageNamesTheCallAndTheReason) {
    const nsrun::SysError e("mount(\"proc\", \"/proc\")", EPERM);
    EXPECT_THAT(e.what(), HasSubstr("mount(\"proc\", \"/proc\")"));
    EXPECT_THAT(e.what(), HasSubstr("Operation not permitted"));
    EXPECT_EQ(e.error_number(), EPERM);
    EXPECT_EQ(e.exit_status(), 125);
}

TEST(SysError, PermissionErrorsHintAtRoot) {
    EXPECT_THAT(nsrun::SysError("clone(CLONE_NEWUTS)", EPERM).hint(), HasSubstr("root"));
    EXPECT_THAT(nsrun::SysError("sethostname(\"x\")", EPERM).hint(), HasSubstr("root"));
}

TEST(SysError, PivotRootEinvalExplainsThePreconditions) {
    EXPECT_THAT(nsrun::SysError("pivot_root(\".\", \".\")", EINVAL).hint(), HasSubstr("mount point"));
}

TEST(Error, CarriesItsExitStatusAndHint) {
    const nsrun::Error e("sh: command not found", "check the name", nsrun::exit_code::not_found);
    EXPECT_EQ(e.exit_status(), 127);
    EXPECT_EQ(e.hint(), "check the name");
}
