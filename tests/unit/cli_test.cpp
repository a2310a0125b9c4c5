// Unit tests of nsrun/cli.hpp: the shared command-line contract.
#include <nsrun/cli.hpp>
#include <nsrun/error.hpp>

#include <CLI/App.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

struct Parsed {
    int status = -1;
    std::vector<std::string> argv;
    std::string hostname;
    bool explain = false;
    std::string err;
};

/// Runs the shared contract on `words` with one extra option, as a step would.
Parsed parse(std::vector<std::string> words, const std::function<int()>& body = [] { return 0; }) {
    CLI::App app{"test", "step-test"};
    nsrun::cli::Command command;
    Parsed p;
    app.add_option("--hostname", p.hostname);
    nsrun::cli::add_command(app, command);
    words.insert(words.begin(), "step-test");
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    testing::internal::CaptureStderr();
    p.status = nsrun::cli::run(app, command, static_cast<int>(argv.size()), argv.data(), body);
    p.err = testing::internal::GetCapturedStderr();
    p.argv = command.argv;
    p.explain = command.explain;
    return p;
}

} // namespace

TEST(CliContract, OptionsThenCommandWithItsOwnFlags) {
    const Parsed p = parse({"--hostname", "box", "--explain", "sh", "-c", "ls --hostname"});
    EXPECT_EQ(p.status, 0);
    EXPECT_EQ(p.hostname, "box");
    EXPECT_TRUE(p.explain);
    EXPECT_THAT(p.argv, testing::ElementsAre("sh", "-c", "ls --hostname"));
}

TEST(CliContract, DoubleDashEndsOptions) {
    const Parsed p = parse({"--", "--weird-command"});
    EXPECT_EQ(p.status, 0);
    EXPECT_THAT(p.argv, testing::ElementsAre("--weird-command"));
}

TEST(CliContract, UnknownOptionIs125) {
    const Parsed p = parse({"--bogus", "sh"});
    EXPECT_EQ(p.status, 125);
    EXPECT_THAT(p.err, testing::HasSubstr("--bogus"));
}

TEST(CliContract, MissingCommandIs125) {
    const Parsed p = parse({"--hostname", "x"});
    EXPECT_EQ(p.status, 125);
    EXPECT_THAT(p.err, testing::HasSubstr("COMMAND"));
}

TEST(CliContract, ErrorsMapToTheirStatusAndPrintTheHint) {
    const Parsed p = parse({"true"}, []() -> int {
        throw nsrun::Error("x: command not found", "check the name", nsrun::exit_code::not_found);
    });
    EXPECT_EQ(p.status, 127);
    EXPECT_THAT(p.err, testing::HasSubstr("step-test: error: x: command not found"));
    EXPECT_THAT(p.err, testing::HasSubstr("hint: check the name"));
}

TEST(ParseSize, AcceptsBytesAndSuffixes) {
    EXPECT_EQ(nsrun::cli::parse_size("1048576"), 1048576ULL);
    EXPECT_EQ(nsrun::cli::parse_size("64m"), 64ULL << 20);
    EXPECT_EQ(nsrun::cli::parse_size("64M"), 64ULL << 20);
    EXPECT_EQ(nsrun::cli::parse_size("2g"), 2ULL << 30);
    EXPECT_EQ(nsrun::cli::parse_size("512k"), 512ULL << 10);
}

TEST(ParseSize, RejectsGarbageNamingTheAcceptedForms) {
    for (const char* bad : {"12q", "", "m", "-1", "1.5g", "64mb", "99999999999999999999g"}) {
        try {
            nsrun::cli::parse_size(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const CLI::ValidationError& e) {
            EXPECT_THAT(e.what(), testing::HasSubstr("suffix")) << bad;
        }
    }
}
