// The step test runner: GoogleTest plus the runtime-under-test parameters,
// and a report written for the learner (what `make grade` prints): the
// suites in step order, one line per test, and for each failure what the
// test checks and why, what was run and what happened.
//
//   step-tests --bin="build/bin/step04-rootfs" [--probe-dir=DIR] [--rootfs=DIR] [--throwaway-host] [gtest flags]
#include "harness.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string_view>
#include <vector>

namespace {

std::vector<std::string> split_words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) {
        words.push_back(w);
    }
    return words;
}

/// The step and the primitive of each suite, for the report's headings.
std::string suite_heading(const std::string& suite) {
    static const std::map<std::string, std::string> titles = {
        {"Uts", "step 01, the UTS namespace (and the command-line contract)"},
        {"Pid", "step 02, the PID namespace"},
        {"Mount", "step 03, the mount namespace"},
        {"Rootfs", "step 04, the root filesystem"},
        {"Cgroups", "step 05, cgroups"},
        {"Userns", "step 06, the user namespace"},
        {"Netns", "step 07, the network namespace"},
        {"Bridge", "step 08, the bridge"},
        {"Nat", "step 09, port publishing and NAT"},
        {"Harness", "the grader's own checks"},
    };
    const auto found = titles.find(suite);
    return found == titles.end() ? suite : suite + " — " + found->second;
}

/// Indents every line of `text` by `pad`.
std::string indented(const std::string& text, const std::string& pad) {
    std::string out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        out += pad + line + "\n";
    }
    return out;
}

/// `text` wrapped at `width` columns, on word boundaries.
std::string wrapped(const std::string& text, std::size_t width) {
    std::string out, line;
    std::istringstream words(text);
    for (std::string w; words >> w;) {
        if (!line.empty() && line.size() + 1 + w.size() > width) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + w;
    }
    return out + line;
}

/// Replaces gtest's own printer.  Per suite (= per step, in step order): a
/// heading, one line per test (✓ passed, ✗ failed, - skipped), and under
/// each failed test its description and its failed checks, each saying what
/// was expected, what happened, and the run record.  At the end a score per
/// primitive and "N passed, M failed, K skipped".
class Report : public ::testing::EmptyTestEventListener {
public:
    explicit Report(std::string rerun) : rerun_(std::move(rerun)) {}

private:
    struct Score {
        std::string suite;
        int passed = 0;
        int failed = 0;
        int skipped = 0;
    };
    static constexpr int shown_failures = 3; ///< per test; the rest are counted

    void OnTestSuiteStart(const ::testing::TestSuite& suite) override {
        std::printf("\n%s\n", suite_heading(suite.name()).c_str());
        scores_.push_back(Score{suite.name()});
        skip_reasons_.clear();
        std::fflush(stdout);
    }

    void OnTestStart(const ::testing::TestInfo&) override {
        failures_.clear();
        in_test_ = true;
    }

    void OnTestPartResult(const ::testing::TestPartResult& part) override {
        // (Not UnitTest::current_test_info(): gtest holds its lock here.)
        if (!in_test_) {
            // Outside any test (a global environment, e.g. the network guard).
            if (part.failed()) {
                std::printf("✗ %s\n", with_location(part).c_str());
                std::fflush(stdout);
            }
            return;
        }
        if (part.skipped()) {
            skip_reason_ = part.message();
        } else if (part.failed()) {
            failures_.push_back(with_location(part));
        }
    }

    void OnTestEnd(const ::testing::TestInfo& info) override {
        in_test_ = false;
        Score& score = scores_.back();
        const auto* result = info.result();
        const double seconds = static_cast<double>(result->elapsed_time()) / 1000.0;
        const std::string took = seconds >= 1.0 ? fmt::format("  ({:.1f} s)", seconds) : "";
        if (result->Skipped()) {
            ++score.skipped;
            std::printf("  - %s  (skipped)\n", info.name());
            if (skip_reason_.empty()) skip_reason_ = "skipped";
            ++skip_reasons_[skip_reason_];
            skip_reason_.clear();
        } else if (result->Passed()) {
            ++score.passed;
            std::printf("  ✓ %s%s\n", info.name(), took.c_str());
        } else {
            ++score.failed;
            failed_.push_back(fmt::format("{}.{}", info.test_suite_name(), info.name()));
            std::printf("  ✗ %s%s\n", info.name(), took.c_str());
            if (const auto* d = lab::described(info.test_suite_name(), info.name())) {
                std::printf("%s", indented(wrapped("what it checks: " + d->description, 100), "      ").c_str());
            }
            std::string previous_run;
            for (std::size_t i = 0; i < failures_.size() && i < shown_failures; ++i) {
                std::printf("\n%s", indented(without_repeated_run(failures_[i], previous_run), "      ").c_str());
            }
            if (failures_.size() > shown_failures) {
                std::printf("\n      … and %zu more failed check%s in this test\n", failures_.size() - shown_failures,
                            failures_.size() - shown_failures == 1 ? "" : "s");
            }
            std::printf("\n");
        }
        std::fflush(stdout);
    }

    void OnTestSuiteEnd(const ::testing::TestSuite&) override {
        for (const auto& [reason, count] : skip_reasons_) {
            std::printf("  (%d skipped: %s)\n", count, reason.c_str());
        }
        std::fflush(stdout);
    }

    void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
        if (scores_.empty()) {
            return;
        }
        std::printf("\n");
        for (const auto& s : scores_) {
            std::printf("score: %-8s %d/%d%s\n", s.suite.c_str(), s.passed, s.passed + s.failed + s.skipped,
                        s.skipped > 0 ? fmt::format("  ({} skipped)", s.skipped).c_str() : "");
        }
        // successful_test_count() already leaves the skipped tests out.
        std::printf("%d passed, %d failed, %d skipped\n", unit.successful_test_count(), unit.failed_test_count(),
                    unit.skipped_test_count());
        if (!failed_.empty()) {
            std::printf("\nTo rerun one failed test:\n  %s --gtest_filter=%s\n", rerun_.c_str(), failed_.front().c_str());
        }
        std::fflush(stdout);
    }

    /// A failure whose run record (from "  ran:" to its location) is the
    /// one of the failure before: the record replaced by a reference.
    static std::string without_repeated_run(const std::string& failure, std::string& previous_run) {
        const auto start = failure.find("\n  ran:    ");
        if (start == std::string::npos) {
            return failure;
        }
        auto end = failure.rfind("\n  (");
        if (end == std::string::npos || end < start) end = failure.size();
        const std::string run = failure.substr(start, end - start);
        if (run == previous_run) {
            return failure.substr(0, start) + "\n  (the same run as above)" + failure.substr(end);
        }
        previous_run = run;
        return failure;
    }

    /// The message and, for a check in a test's code, where it is.
    static std::string with_location(const ::testing::TestPartResult& part) {
        if (part.file_name() == nullptr || part.line_number() < 0) {
            return part.message();
        }
        std::string file = part.file_name();
        if (const auto at = file.rfind("tests/steps/"); at != std::string::npos) {
            file = file.substr(at);
        }
        return fmt::format("{}\n  ({}:{})", part.message(), file, part.line_number());
    }

    std::string rerun_;
    bool in_test_ = false;
    std::vector<Score> scores_;
    std::vector<std::string> failures_;
    std::vector<std::string> failed_;
    std::string skip_reason_;
    std::map<std::string, int> skip_reasons_;
};

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    auto& config = lab::config();
    config.probe_dir = NSRUN_PROBE_DIR;
    config.rootfs = NSRUN_LAB_ROOTFS;
    std::string rerun = lab::shell_quote(argv[0]);
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        rerun += " " + lab::shell_quote(argv[i]);
        if (arg.starts_with("--bin=")) {
            config.bin = split_words(std::string(arg.substr(6)));
            // Relative paths are made absolute now: under --throwaway-host the
            // runtime starts after setns(2) into another mount namespace, where
            // the working directory is not ours any more.  That is the first
            // word when it is a path (./my-runtime) and any word naming a file
            // here (python3 my.py).
            for (std::size_t w = 0; w < config.bin.size(); ++w) {
                std::string& word = config.bin[w];
                const bool path = w == 0 && word.find('/') != std::string::npos;
                std::error_code ec;
                const bool file_here = w > 0 && !word.starts_with('-') && std::filesystem::is_regular_file(word, ec);
                if ((path || file_here) && !word.starts_with('/')) {
                    word = std::filesystem::absolute(word).string();
                }
            }
        } else if (arg.starts_with("--probe-dir=")) {
            config.probe_dir = arg.substr(12);
        } else if (arg.starts_with("--rootfs=")) {
            config.rootfs = arg.substr(9);
            config.give_rootfs = true;
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
    // Whatever a runtime under test leaves running is re-parented to us, not
    // to PID 1, and every test ends it (StepTest, harness.cpp).
    lab::become_subreaper();
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new Report(rerun));
    return RUN_ALL_TESTS();
}
