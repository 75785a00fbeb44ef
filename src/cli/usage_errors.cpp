#include "cli/usage_errors.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <string_view>
#include <vector>

namespace sy::cli {
namespace {

// The commands given, outermost (the app) first: CLI11 records a subcommand before it parses its options,
// so this is known even when the parse failed inside it.
std::vector<const CLI::App*> command_path(const CLI::App& app) {
  std::vector<const CLI::App*> path{&app};
  for (auto subs = app.get_subcommands(); !subs.empty(); subs = path.back()->get_subcommands())
    path.push_back(subs.front());
  return path;
}

std::string command_line(const std::vector<const CLI::App*>& path) {
  std::string out = "switchyard";
  for (size_t i = 1; i < path.size(); ++i) out += " " + path[i]->get_name();
  return out;
}

// An option of the innermost command (or one above it) by the name CLI11 uses in its messages.
const CLI::Option* find_option(const std::vector<const CLI::App*>& path, std::string_view name) {
  for (auto it = path.rbegin(); it != path.rend(); ++it)
    for (const CLI::Option* opt : (*it)->get_options())
      if (!name.empty() && opt->get_name() == name) return opt;
  return nullptr;
}

// "-n/--n-predict": every name of the option, as --help lists them.
std::string pretty_name(const std::vector<const CLI::App*>& path, std::string_view name) {
  const CLI::Option* opt = find_option(path, name);
  if (opt == nullptr) return std::string(name);
  std::string all = opt->get_name(false, true);
  for (char& c : all)
    if (c == ',') c = '/';
  return all.empty() ? std::string(name) : all;
}

std::string type_phrase(const std::vector<const CLI::App*>& path, std::string_view name) {
  const CLI::Option* opt = find_option(path, name);
  const std::string type = opt != nullptr ? opt->get_type_name() : "";
  if (type == "INT") return "an integer";
  if (type == "UINT") return "a non-negative integer";
  if (type == "FLOAT") return "a number";
  return "a valid value";
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

bool consume(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// "NAME: detail" → "-n/--name: detail", with CLI::Range's "Value X not in range A to B" reworded.
std::string option_detail(const std::vector<const CLI::App*>& path, std::string_view what) {
  const auto colon = what.find(": ");
  if (colon == std::string_view::npos || find_option(path, what.substr(0, colon)) == nullptr)
    return lower_first(std::string(what));
  std::string_view detail = what.substr(colon + 2);
  std::string text(detail);
  if (detail.ends_with(" missing") && detail.find(" required ") != std::string_view::npos) {
    text = "needs a value";  // CLI11: "1 required INT:0 to 5 missing"
  } else if (consume(detail, "Value ")) {
    if (const auto at = detail.find(" not in range "); at != std::string_view::npos)
      text = fmt::format("'{}' is not a number in {}", detail.substr(0, at), detail.substr(at + 14));
  }
  return fmt::format("{}: {}", pretty_name(path, what.substr(0, colon)), text);
}

}  // namespace

std::string usage_error_message(const CLI::App& app, const CLI::ParseError& error, std::span<char* const> args) {
  const auto path = command_path(app);
  const CLI::App& cmd = *path.back();
  const std::string here = command_line(path);
  std::string_view what = error.what();

  if (what == "A subcommand is required") {
    // CLI11 treats an unknown command as a stray argument and then misses the command it requires.
    std::vector<std::string> rest = cmd.remaining();
    if (rest.empty() && path.size() == 1 && args.size() > 1) rest.emplace_back(args[1]);
    if (rest.empty()) return fmt::format("missing command (see {} --help)", here);
    if (rest.front().starts_with("-")) return fmt::format("unknown option '{}' (see {} --help)", rest.front(), here);
    return fmt::format("unknown command '{}' (see {} --help)", rest.front(), here);
  }
  std::string_view s = what;
  if (const auto is_required = s.rfind(" is required"); is_required != std::string_view::npos &&
                                                        is_required + 12 == s.size() &&
                                                        find_option(path, s.substr(0, is_required)))
    return fmt::format("missing required option {} (see {} --help)", pretty_name(path, s.substr(0, is_required)), here);
  if (consume(s, "Could not convert: ")) {
    const auto eq = s.find(" = ");
    if (eq != std::string_view::npos)
      return fmt::format("{}: '{}' is not {}", pretty_name(path, s.substr(0, eq)), s.substr(eq + 3),
                         type_phrase(path, s.substr(0, eq)));
  }
  if (consume(s, "The value ")) {
    const auto at = s.find(" is not an allowed value for ");
    if (at != std::string_view::npos)
      return fmt::format("{}: '{}' is not an allowed value", pretty_name(path, s.substr(at + 29)), s.substr(0, at));
  }
  s = what;
  if (consume(s, "The following argument was not expected: ") ||
      consume(s, "The following arguments were not expected: ")) {
    const std::string_view first = s.substr(0, s.find(' '));
    const char* kind = first.starts_with("-") ? "unknown option"
                       : path.size() == 1     ? "unknown command"
                                              : "unexpected argument";
    return fmt::format("{} '{}' (see {} --help)", kind, first, here);
  }
  s = what;
  if (consume(s, "Expected exactly 1 arguments to ")) {
    const auto comma = s.find(", got ");
    if (comma != std::string_view::npos) return fmt::format("{}: needs a value", pretty_name(path, s.substr(0, comma)));
  }
  return option_detail(path, what);
}

}  // namespace sy::cli
