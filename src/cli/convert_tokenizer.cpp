// `switchyard convert-tokenizer DIR -o vocab.gguf [--pre NAME]`: a Hugging Face tokenizer (tokenizer.json,
// tokenizer_config.json) as a vocabulary-only GGUF with the keys model GGUFs carry.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/file_io.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"

namespace sy::cli {
namespace {

struct ConvertTokenizerOptions {
  std::string dir;
  std::string output;
  std::string pre;
};

void run_convert_tokenizer(const ConvertTokenizerOptions& opt) {
  const std::filesystem::path dir(opt.dir);
  const std::filesystem::path inputs[] = {dir, dir / "tokenizer.json", dir / "tokenizer_config.json",
                                          dir / "chat_template.jinja"};
  value_or_throw(check_output_path(opt.output, inputs, "-o/--output"));
  tok::HfImportOptions import_options;
  if (!opt.pre.empty()) import_options.pre = opt.pre;
  auto imported = value_or_throw(tok::import_hf_tokenizer(opt.dir, import_options));
  for (const auto& w : imported.warnings) fmt::print(stderr, "switchyard: warning: {}\n", w);
  const std::string name = std::filesystem::path(opt.dir).lexically_normal().filename().string();
  value_or_throw(tok::write_vocab_gguf(imported.vocab, opt.output, name.empty() ? "vocab" : name));
  // Read back what was written: the file must load as a tokenizer.
  auto tokenizer = value_or_throw(tok::Tokenizer::open(opt.output));
  const auto& v = tokenizer.vocab();
  fmt::print("{}: {} tokens, {} merges, pre-tokenizer {}, BOS {}, EOS {}, add_bos {}, chat template {}\n", opt.output,
             v.size(), v.merges.size(), v.pre, v.special.bos ? fmt::to_string(*v.special.bos) : "none",
             v.special.eos ? fmt::to_string(*v.special.eos) : "none", v.add_bos, v.chat_template ? "yes" : "no");
}

void register_convert_tokenizer(CLI::App& app) {
  auto opt = std::make_shared<ConvertTokenizerOptions>();
  auto* cmd = app.add_subcommand(
      "convert-tokenizer", "Convert a Hugging Face tokenizer.json (+ tokenizer_config.json) to a GGUF vocabulary");
  cmd->add_option("dir", opt->dir, "Directory holding tokenizer.json")->required();
  cmd->add_option("-o,--output", opt->output, "GGUF file to write")->required();
  cmd->add_option("--pre", opt->pre, "Pre-tokenizer name (tokenizer.ggml.pre) instead of recognising it");
  cmd->callback([opt] { run_convert_tokenizer(*opt); });
}

}  // namespace

SY_COMMAND(convert_tokenizer, register_convert_tokenizer);

}  // namespace sy::cli
