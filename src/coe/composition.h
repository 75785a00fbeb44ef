// A composition of experts (issue 16): several whole models behind one endpoint, a router that picks one per
// request, and a memory budget for all of them. Read from TOML or JSON (same keys; docs/composition.md):
//
//   budget = "64MiB"              # memory for the loaded models together ("0" or absent: no limit)
//   default = "generalist"        # answers what the router cannot place; absent: the first model by name
//   [models.generalist]
//   path = "switchyard-moe-mini.q8_0.gguf"   # relative paths are relative to this file
//   description = "General text in eight languages and Python code."
//   categories = ["en", "es", "it"]          # each category belongs to at most one model
//   [router]
//   kind = "rules"                # rules | embedding | llm
//   [[router.rules]]
//   pattern = "(?m)^\\s*(def|class|import) "  # PCRE2; the first rule that matches wins
//   category = "code"             # or model = "NAME"
//
// Every failure names the file and the key. Parsing does not open the models: the server and `router eval`
// check them when they start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::coe {

struct ModelEntry {
  std::string name;                     // what requests and /v1/models call it
  std::filesystem::path path;           // the GGUF file (resolved against the composition's folder)
  std::string description;              // what it is good at (the llm router reads it)
  std::vector<std::string> categories;  // the categories routed to it
};

enum class RouterKind { kRules, kEmbedding, kLlm };
std::string_view router_kind_name(RouterKind kind);

struct RouterRule {
  std::string pattern;   // PCRE2
  std::string category;  // exactly one of category and model
  std::string model;
};

struct RouterSpec {
  RouterKind kind = RouterKind::kRules;
  std::vector<RouterRule> rules;     // rules
  std::string embedder;              // embedding: a model of the composition by name, or a (resolved) GGUF path
  std::filesystem::path classifier;  // embedding: the file `router train` wrote
  std::string scorer;                // llm: a model of the composition by name, or a (resolved) GGUF path
  double threshold = 0;              // embedding, llm: confidence below this goes to the default model
};

struct Composition {
  std::filesystem::path source;  // the file it was read from
  std::vector<ModelEntry> models;
  std::string default_model;
  uint64_t budget_bytes = 0;                          // 0: no limit
  std::map<std::string, std::string> category_model;  // category -> model name
  RouterSpec router;

  const ModelEntry* find(std::string_view name) const;
  // The model a category goes to: its owner, or the default model when no model claims it.
  const std::string& model_for_category(std::string_view category) const;
};

enum class CompositionFormat { kToml, kJson };

// Reads a composition file; the format follows the extension (.toml, .json).
Result<Composition> load_composition(const std::filesystem::path& path);
// Parses text; relative paths are resolved against base_dir; `origin` names the text in errors.
Result<Composition> parse_composition(std::string_view text, CompositionFormat format,
                                      const std::filesystem::path& base_dir, std::string_view origin);

}  // namespace sy::coe
