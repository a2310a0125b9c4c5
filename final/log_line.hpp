/// @file log_line.hpp
/// The --log file's one function, for the files that log without parsing
/// a command line: they need not include CLI11 (cli.hpp), whose validator
/// objects every file including it constructs at each start of nsrun.
#pragma once

#include <string>

/// Append one line to the --log file, if one was given (text or json).
void log_line(const char* level, const std::string& message);
