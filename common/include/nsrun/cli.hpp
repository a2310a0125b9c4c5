/// @file cli.hpp
/// @brief The command-line contract every step shares (CLI11).
///
///     stepNN-name [OPTIONS] [--] COMMAND [ARGS…]
///
/// Options come first; the first word that is not an option starts COMMAND,
/// and everything after it belongs to COMMAND (so `sh -c 'ls -l'` needs no
/// quoting tricks).  `--` ends the options explicitly.
#pragma once

#include <functional>
#include <string>
#include <vector>

// CLI11 is only declared here: a header that pulled in <CLI/CLI.hpp> would make
// every file of every step compile CLI11's help formatter and config reader
// again (seconds each).  Files that declare options include <CLI/App.hpp>;
// cli.cpp, the one file that parses, includes all of <CLI/CLI.hpp>.
namespace CLI {
class App;
} // namespace CLI

namespace nsrun::cli {

/// What every step's command line has besides its own primitive's options.
struct Command {
    std::vector<std::string> argv; ///< COMMAND and its arguments
    bool explain = false;          ///< --explain
    bool optional = false;         ///< COMMAND may be left out (nsrun run --image: the image's own)
};

/// Set up `app` for the shared contract: --explain, the COMMAND words, the
/// usage text and the exit statuses in --help.
void add_command(CLI::App& app, Command& command);

/// Parse the command line and run `body`, mapping failures to docker's exit
/// statuses: --help → 0; a bad flag or value → message and 125; an
/// nsrun::Error → "<prog>: error: …" (+ hint) and its status (125/126/127).
int run(CLI::App& app, Command& command, int argc, char** argv, const std::function<int()>& body);

/// Print "<prog>: error: message" and, when given, "<prog>: hint: hint".
void print_error(const std::string& message, const std::string& hint = {});

/// Print "<prog>: warning: message" (a request that cannot be honoured).
void print_warning(const std::string& message);

/// Print "<prog>: note: message" (a default that changed, nothing dropped).
void print_note(const std::string& message);

/// Parse a size such as 64m, 1g, 512k or 1048576 (bytes) — used by later
/// steps; throws CLI::ValidationError naming the accepted forms.
unsigned long long parse_size(const std::string& text);

} // namespace nsrun::cli
