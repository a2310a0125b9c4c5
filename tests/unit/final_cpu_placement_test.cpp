// Unit tests of cpu_placement.hpp's pure part: reading /proc/loadavg's
// count of runnable tasks (the placement itself is tested on the kernel, in
// tests/final/lifecycle_test.cpp).
#include "cpu_placement.hpp"

#include <gtest/gtest.h>

namespace {

TEST(FinalCpuPlacement, RunnableTasksIsTheFourthFieldsFirstNumber) {
    EXPECT_EQ(runnable_tasks("0.20 0.18 0.12 2/345 4242\n"), 2);
    EXPECT_EQ(runnable_tasks("12.00 9.50 3.01 17/2048 1"), 17);
    EXPECT_EQ(runnable_tasks("0.00 0.00 0.00 1/90 7"), 1);
}

TEST(FinalCpuPlacement, ALoadavgWithoutTheCountGivesNothing) {
    EXPECT_EQ(runnable_tasks(""), std::nullopt);
    EXPECT_EQ(runnable_tasks("0.20 0.18 0.12"), std::nullopt) << "no fourth field";
    EXPECT_EQ(runnable_tasks("0.20 0.18 0.12 x/345 1"), std::nullopt) << "not a number";
    EXPECT_EQ(runnable_tasks("0.20 0.18 0.12 2 1"), std::nullopt) << "no slash after it";
}

} // namespace
