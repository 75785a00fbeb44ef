// Turns CLI11's parse errors into switchyard's own wording: the option by all its names and the value
// ("-n/--n-predict: 'abc' is not an integer"), "unknown command 'frob' (see switchyard --help)", and
// lower-case CLI11 text for the rest. main.cpp prints it as "switchyard: error: …" and exits 2.
#pragma once

#include <span>
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace sy::cli {

// args: argv as main received it (args[0] the program).
std::string usage_error_message(const CLI::App& app, const CLI::ParseError& error, std::span<char* const> args);

}  // namespace sy::cli
