// `switchyard router train` and `switchyard router eval`: the embedding router's classifier and the evaluation of
// a composition's router (docs/composition.md). Thin: the work is in coe/ (classifier, embedding_router,
// router_eval).
//
//   switchyard router train --embedder MODEL.gguf --examples FILE.jsonl -o router.json [--method centroid|logistic]
//       [--models COMPOSITION] [-t N]      examples: JSON lines {"text": ..., "category": ...}
//   switchyard router eval --models COMPOSITION -f DIR [--json] [--no-perplexity] [--max-paragraphs N] [-t N]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/validators.h"
#include "coe/classifier.h"
#include "coe/composition.h"
#include "coe/embedding_router.h"
#include "coe/prompt_router.h"
#include "coe/router_eval.h"
#include "core/error.h"
#include "core/file_io.h"
#include "runtime/text_embedder.h"

namespace sy::cli {
namespace {

int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hw, 1u, 4u));
}

struct TrainOptions {
  std::string embedder, examples, out, method = "centroid", models;
  int threads = 0;
};

void run_train(const TrainOptions& opt) {
  const std::filesystem::path inputs[] = {opt.embedder, opt.examples, opt.models};
  value_or_throw(check_output_path(opt.out, inputs, "router train -o"));
  std::vector<std::string> allowed;
  if (!opt.models.empty()) {
    const coe::Composition c = value_or_throw(coe::load_composition(opt.models));
    for (const auto& [category, model] : c.category_model) allowed.push_back(category);
  }
  const auto examples = value_or_throw(coe::read_examples(opt.examples));
  auto embedder =
      value_or_throw(runtime::TextEmbedder::open(opt.embedder, {.n_threads = resolve_threads(opt.threads)}));
  const coe::EmbeddedExamples data = value_or_throw(coe::embed_examples(*embedder, examples, allowed, opt.examples));
  coe::TrainOptions train;
  train.method = opt.method == "logistic" ? coe::ClassifierMethod::kLogistic : coe::ClassifierMethod::kCentroid;
  const coe::Classifier c = value_or_throw(
      coe::train_classifier(data.embeddings, data.labels, data.categories, coe::embedder_id(*embedder), train));
  // Training accuracy: a quick sanity figure (held-out accuracy is `router eval`'s job).
  int64_t correct = 0;
  const auto d = static_cast<size_t>(c.dims);
  for (size_t e = 0; e < data.labels.size(); ++e) {
    const std::vector<double> p = c.probabilities(std::span<const float>(data.embeddings.data() + e * d, d));
    correct += std::max_element(p.begin(), p.end()) - p.begin() == data.labels[e];
  }
  {
    std::ofstream out(opt.out, std::ios::binary | std::ios::trunc);
    if (!out) throw Exception(Error{ErrorCode::kIo, fmt::format("cannot write '{}'", opt.out)});
    out << coe::classifier_json(c);
    if (!out.flush()) throw Exception(Error{ErrorCode::kIo, fmt::format("writing '{}' failed", opt.out)});
  }
  fmt::print("wrote {}: {} classifier over {} categories, {} examples, {} dims; training accuracy {:.1f} %\n", opt.out,
             coe::classifier_method_name(c.method), c.categories.size(), examples.size(), c.dims,
             100.0 * static_cast<double>(correct) / static_cast<double>(examples.size()));
}

struct EvalOptions {
  std::string models, dir;
  bool json = false, no_perplexity = false;
  size_t max_paragraphs = 0, min_chars = 32;
  int threads = 0;
};

void run_eval(const EvalOptions& opt) {
  const coe::Composition c = value_or_throw(coe::load_composition(opt.models));
  const int threads = resolve_threads(opt.threads);
  auto router = value_or_throw(coe::make_prompt_router(c, {.n_threads = threads}));
  const coe::EvalReport report = value_or_throw(coe::evaluate_router(c, *router, opt.dir,
                                                                     {.n_threads = threads,
                                                                      .min_paragraph_chars = opt.min_chars,
                                                                      .max_paragraphs = opt.max_paragraphs,
                                                                      .perplexity = !opt.no_perplexity}));
  if (opt.json) {
    fmt::print("{}\n", report.to_json().dump(1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", report.to_text());
  }
}

void register_router(CLI::App& app) {
  auto* router = app.add_subcommand("router", "Train and evaluate the prompt router of a composition of experts");
  router->require_subcommand(1);
  {
    auto opt = std::make_shared<TrainOptions>();
    auto* cmd = router->add_subcommand("train", "Train the embedding router's classifier from JSONL examples");
    cmd->add_option("--embedder", opt->embedder, "GGUF model whose mean hidden state embeds a text")->required();
    cmd->add_option("--examples", opt->examples, "JSON lines {\"text\": ..., \"category\": ...}")->required();
    cmd->add_option("-o,--out", opt->out, "Classifier file to write (JSON)")->required();
    cmd->add_option("--method", opt->method, "centroid (nearest centroid) or logistic (logistic regression)")
        ->check(CLI::IsMember({"centroid", "logistic"}));
    cmd->add_option("--models", opt->models, "Composition file: every example's category must be in its table");
    cmd->add_option("-t,--threads", opt->threads, "Threads (default: up to 4)")->check(in_range(0, 1024));
    cmd->callback([opt] { run_train(*opt); });
  }
  {
    auto opt = std::make_shared<EvalOptions>();
    auto* cmd = router->add_subcommand("eval", "Routing accuracy and perplexity of a composition on held-out text");
    cmd->add_option("--models", opt->models, "Composition file (.toml or .json)")->required();
    cmd->add_option("-f,--dir", opt->dir, "Directory of DOMAIN.txt validation texts")->required();
    cmd->add_flag("--json", opt->json, "Print the report as one JSON object");
    cmd->add_flag("--no-perplexity", opt->no_perplexity, "Routing accuracy only");
    cmd->add_option("--max-paragraphs", opt->max_paragraphs, "Paragraphs per domain (0 = all)")
        ->check(in_range(size_t{0}, size_t{1} << 30));
    cmd->add_option("--min-chars", opt->min_chars, "Skip paragraphs shorter than this (default 32)")
        ->check(in_range(size_t{0}, size_t{1} << 20));
    cmd->add_option("-t,--threads", opt->threads, "Threads (default: up to 4)")->check(in_range(0, 1024));
    cmd->callback([opt] { run_eval(*opt); });
  }
}

}  // namespace

SY_COMMAND(router, register_router);

}  // namespace sy::cli
