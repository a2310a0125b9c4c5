// The step test runner: GoogleTest plus the runtime-under-test parameters
// and a per-primitive score (what `make grade` prints).
//
//   step-tests --bin="build/bin/step04-rootfs" [--probe-dir=DIR] [--rootfs=DIR] [--throwaway-host] [gtest flags]
#include "harness.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <vector>
#include <sstream>
#include <string_view>

namespace {

std::vector<std::string> split_words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    return words;
}

/// Prints "score: Uts 12/12" per suite (in the order the suites ran, which
/// is the order of the steps) and a closing "N passed, M failed".
class ScoreListener : public ::testing::EmptyTestEventListener {
    struct Score {
        std::string suite;
        int passed = 0;
        int total = 0;
    };
    void OnTestEnd(const ::testing::TestInfo& info) override {
        if (scores_.empty() || scores_.back().suite != info.test_suite_name()) {
            scores_.push_back(Score{info.test_suite_name()});
        }
        ++scores_.back().total;
        if (info.result()->Passed() && !info.result()->Skipped()) {
            ++scores_.back().passed;
        }
    }
    void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
        for (const auto& score : scores_) {
            std::printf("score: %-8s %d/%d\n", score.suite.c_str(), score.passed, score.total);
        }
        std::printf("%d passed, %d failed, %d skipped\n", unit.successful_test_count() - unit.skipped_test_count(),
                    unit.failed_test_count(), unit.skipped_test_count());
    }
    std::vector<Score> scores_;
};

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    auto& config = lab::config();
    config.probe_dir = NSRUN_PROBE_DIR;
    config.rootfs = NSRUN_LAB_ROOTFS;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with("--bin=")) {
            config.bin = split_words(std::string(arg.substr(6)));
            // A relative path is made absolute now: under --throwaway-host the
            // runtime starts after setns(2) into another mount namespace, where
            // the working directory is not ours any more.
            if (!config.bin.empty() && config.bin[0].find('/') != std::string::npos &&
                !config.bin[0].starts_with('/')) {
                config.bin[0] = std::filesystem::absolute(config.bin[0]).string();
            }
        } else if (arg.starts_with("--probe-dir=")) {
            config.probe_dir = arg.substr(12);
        } else if (arg.starts_with("--rootfs=")) {
            config.rootfs = arg.substr(9);
        } else if (arg == "--throwaway-host") {
            config.throwaway_host = true;
        } else {
            std::fprintf(stderr, "step-tests: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (config.bin.empty() && !::testing::GTEST_FLAG(list_tests)) {
        std::fprintf(stderr, "step-tests: give the runtime under test: --bin=\"PATH [ARGS]\"\n");
        return 2;
    }
    ::testing::UnitTest::GetInstance()->listeners().Append(new ScoreListener);
    return RUN_ALL_TESTS();
}
