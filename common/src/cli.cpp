#include "nsrun/cli.hpp"

#include "nsrun/error.hpp"
#include "nsrun/explain.hpp"

#include <cctype>
#include <cstdio>
#include <limits>

#include <fmt/format.h>

// The whole of CLI11, once per binary: its help formatter and config reader
// are compiled here (see cli.hpp).
#include <CLI/CLI.hpp>

namespace nsrun::cli {
namespace {

std::string g_program = "nsrun";

/// CLI11's prefix_command() leaves everything from the first word it does
/// not know in remaining(); turn that into COMMAND, rejecting unknown flags.
std::vector<std::string> command_words(std::vector<std::string> rest, bool optional) {
    if (!rest.empty() && rest.front() == "--") {
        rest.erase(rest.begin());
    } else if (!rest.empty() && rest.front().starts_with('-')) {
        throw CLI::ValidationError(
            fmt::format("unknown option {} (put -- before COMMAND if it starts with a dash)", rest.front()));
    }
    if (rest.empty() && !optional) {
        throw CLI::ValidationError("COMMAND is required: what should run inside the container?");
    }
    return rest;
}

/// CLI11's usage line does not know about COMMAND (it lives in remaining()).
class Formatter : public CLI::Formatter {
public:
    std::string make_usage(const CLI::App* app, std::string name) const override {
        return fmt::format("Usage: {} [OPTIONS] [--] COMMAND [ARGS...]\n", name.empty() ? app->get_name() : name);
    }
};

} // namespace

void add_command(CLI::App& app, Command& command) {
    g_program = app.get_name();
    app.add_flag("--explain", command.explain,
                 "narrate every kernel-level action (clone, mount, pivot_root, ...) on stderr");
    app.prefix_command();
    app.formatter(std::make_shared<Formatter>());
    app.footer(fmt::format(
        "COMMAND [ARGS...] runs inside the container; the first word that is not an option\n"
        "starts it (use -- if COMMAND itself starts with a dash).\n"
        "Exit status: COMMAND's own; 125 when {} fails, 126 when COMMAND cannot be\n"
        "executed, 127 when it is not found, 128+N when it is killed by signal N.",
        g_program));
}

int run(CLI::App& app, Command& command, int argc, char** argv, const std::function<int()>& body) {
    try {
        app.parse(argc, argv);
        command.argv = command_words(app.remaining(), command.optional);
    } catch (const CLI::CallForHelp&) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::ParseError& e) {
        print_error(e.what(), fmt::format("see {} --help", g_program));
        return exit_code::runtime_error;
    }
    explain::enable(command.explain);
    try {
        return body();
    } catch (const Error& e) {
        print_error(e.what(), e.hint());
        return e.exit_status();
    } catch (const std::exception& e) {
        print_error(e.what());
        return exit_code::runtime_error;
    }
}

void print_error(const std::string& message, const std::string& hint) {
    std::string text = fmt::format("{}: error: {}\n", g_program, message);
    if (!hint.empty()) {
        text += fmt::format("{}: hint: {}\n", g_program, hint);
    }
    std::fputs(text.c_str(), stderr);
}

void print_warning(const std::string& message) {
    std::fputs(fmt::format("{}: warning: {}\n", g_program, message).c_str(), stderr);
}

void print_note(const std::string& message) {
    std::fputs(fmt::format("{}: note: {}\n", g_program, message).c_str(), stderr);
}

unsigned long long parse_size(const std::string& text) {
    const auto bad = [&] {
        return CLI::ValidationError(fmt::format(
            "invalid size '{}': give bytes or a number with a k, m or g suffix (e.g. 64m)", text));
    };
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
        ++digits;
    }
    if (digits == 0 || text.size() - digits > 1) {
        throw bad();
    }
    unsigned long long multiplier = 1;
    if (digits < text.size()) {
        switch (std::tolower(static_cast<unsigned char>(text.back()))) {
        case 'b': multiplier = 1; break;
        case 'k': multiplier = 1ULL << 10; break;
        case 'm': multiplier = 1ULL << 20; break;
        case 'g': multiplier = 1ULL << 30; break;
        default: throw bad();
        }
    }
    unsigned long long value = 0;
    try {
        value = std::stoull(text.substr(0, digits));
    } catch (const std::exception&) {
        throw bad();
    }
    if (value > std::numeric_limits<unsigned long long>::max() / multiplier) {
        throw bad();
    }
    return value * multiplier;
}

} // namespace nsrun::cli
