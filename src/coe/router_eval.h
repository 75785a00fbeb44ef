// `switchyard router eval`: how well a composition's router places held-out text, and what that is worth in
// perplexity. DIR holds one DOMAIN.txt per domain (like models/switchyard-moe-mini.valid/); a domain's expected
// model is the one its category routes to (Composition::model_for_category).
//
//  - Routing accuracy over paragraphs: each file is cut at blank lines into paragraphs (the corpus's item
//    separator), paragraphs shorter than min_paragraph_chars are skipped, each one is routed alone. Reported:
//    the category the router saw (confusion matrix domain × category), the model it chose, how often the
//    threshold sent it to the default model.
//  - Perplexity by `switchyard perplexity`'s rule (runtime/perplexity.h) at the same context (the training
//    context, at most 512): every model of the composition on every domain file; the routed composition, where
//    each window [BOS] + chunk is routed by the chunk's text and scored by the model the router chose; and the
//    oracle, the best single model for the domain. All models must share one vocabulary (perplexities are
//    per token).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "coe/composition.h"
#include "coe/prompt_router.h"
#include "core/error.h"

namespace sy::coe {

struct EvalOptions {
  int n_threads = 1;
  size_t min_paragraph_chars = 32;
  size_t max_paragraphs = 0;  // per domain, 0: all (tests use a few)
  bool perplexity = true;     // false: routing accuracy only
};

struct DomainEval {
  std::string domain;
  std::string expected_model;
  // Paragraphs.
  int64_t paragraphs = 0;
  int64_t category_correct = 0;                // the router's category is the domain
  int64_t model_correct = 0;                   // the chosen model is the expected one
  int64_t below_threshold = 0;                 // sent to the default model by the threshold (or no category)
  std::map<std::string, int64_t> by_category;  // confusion row; "" = no category
  std::map<std::string, int64_t> by_model;
  // Perplexity (when asked).
  int64_t tokens = 0, windows = 0, windows_to_expected = 0;
  std::map<std::string, double> ppl;  // per model
  double routed_ppl = 0, oracle_ppl = 0;
  std::string oracle_model;
};

struct EvalReport {
  std::string router;  // kind
  double threshold = 0;
  std::string default_model;
  std::vector<std::string> models;      // the composition's, in order
  std::vector<std::string> categories;  // confusion columns: every category seen, sorted; "" last when seen
  std::vector<DomainEval> domains;      // sorted by name
  int64_t ctx = 0;
  double seconds = 0;

  // Over the paragraphs of the domains whose expected model is not the default (the experts').
  double expert_model_accuracy() const;
  double category_accuracy() const;  // over all paragraphs
  nlohmann::json to_json() const;
  std::string to_text() const;
};

Result<EvalReport> evaluate_router(const Composition& composition, PromptRouter& router,
                                   const std::filesystem::path& dir, const EvalOptions& options);

// Paragraphs of a text: cut at blank lines, trimmed of surrounding newlines, shorter ones than min_chars dropped.
std::vector<std::string> split_paragraphs(std::string_view text, size_t min_chars);

}  // namespace sy::coe
