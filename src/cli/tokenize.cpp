// `switchyard tokenize -m FILE (-p TEXT | --text-file F) [--ids] [--no-bos] [--parse-special] [--bench]`
//
// Output (stable; scripts parse it):
//   --ids:   the ids on one line, separated by commas ("9707,1879"); an empty line for no tokens.
//   default: the same line, then one line per token: the id, a tab, and its piece as a JSON-style string
//            (quotes, backslashes and control characters escaped as in JSON; a byte that is not part of a
//            valid UTF-8 character, such as a fragment of one split over tokens, as \xNN).
//   --bench: one line "bytes=N tokens=M runs=R seconds=S MB/s=X tokens/s=Y" instead (timing the encode only).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/text_options.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace sy::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string prompt;
  std::string text_file;
  bool ids_only = false;
  bool no_bos = false;
  bool parse_special = false;
  bool bench = false;
};

std::string json_piece(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const tok::DecodedChar c = tok::decode_utf8(s, i);
    if (!c.valid) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(s[i]));
    } else if (c.cp == '"' || c.cp == '\\') {
      out += '\\';
      out += static_cast<char>(c.cp);
    } else if (c.cp == '\n') {
      out += "\\n";
    } else if (c.cp == '\t') {
      out += "\\t";
    } else if (c.cp == '\r') {
      out += "\\r";
    } else if (c.cp < 0x20 || c.cp == 0x7F) {
      out += fmt::format("\\u{:04x}", c.cp);
    } else {
      out.append(s.substr(i, c.len));
    }
    i += c.len;
  }
  return out + "\"";
}

void run_tokenize(const TokenizeOptions& opt) {
  // -p "" is a valid (empty) text, so only a text file excludes the prompt (CLI11 checks both given).
  const std::string text = opt.text_file.empty() ? opt.prompt : read_text_file(opt.text_file);
  auto tokenizer = value_or_throw(tok::Tokenizer::open(opt.model));
  const tok::EncodeOptions enc{.add_special = !opt.no_bos, .parse_special = opt.parse_special};

  if (opt.bench) {
    using Clock = std::chrono::steady_clock;
    size_t runs = 0, n_tokens = 0;
    const auto start = Clock::now();
    double seconds = 0;
    // At least one run and about a second in all, so small texts are timed over many runs.
    do {
      n_tokens = value_or_throw(tokenizer.encode(text, enc)).size();
      ++runs;
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
    } while (seconds < 1.0);
    const double mb = static_cast<double>(text.size()) * static_cast<double>(runs) / 1e6;
    fmt::print("bytes={} tokens={} runs={} seconds={:.3f} MB/s={:.2f} tokens/s={:.0f}\n", text.size(), n_tokens, runs,
               seconds, mb / seconds, static_cast<double>(n_tokens * runs) / seconds);
    return;
  }

  const auto ids = value_or_throw(tokenizer.encode(text, enc));
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += fmt::format("{}{}", i ? "," : "", ids[i]);
  fmt::print("{}\n", line);
  if (opt.ids_only) return;
  for (tok::TokenId id : ids) fmt::print("{}\t{}\n", id, json_piece(tokenizer.token_to_piece(id, true)));
}

void register_tokenize(CLI::App& app) {
  auto opt = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Tokenize text with the vocabulary of a GGUF model or vocabulary file");
  cmd->add_option("-m,--model", opt->model, "GGUF file carrying tokenizer.ggml.* metadata")->required();
  auto* p = cmd->add_option("-p,--prompt", opt->prompt, "Text to tokenize");
  auto* f = cmd->add_option("--text-file", opt->text_file, "File whose bytes are the text to tokenize");
  p->excludes(f);
  cmd->add_flag("--ids", opt->ids_only, "Print only the ids");
  cmd->add_flag("--no-bos", opt->no_bos, "Do not add BOS/EOS even where the vocabulary asks for them");
  cmd->add_flag("--parse-special", opt->parse_special, "Recognise control tokens written in the text");
  cmd->add_flag("--bench", opt->bench, "Measure tokenization throughput instead of printing tokens");
  cmd->callback([opt] { run_tokenize(*opt); });
}

}  // namespace

SY_COMMAND(tokenize, register_tokenize);

}  // namespace sy::cli
