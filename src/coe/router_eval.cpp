#include "coe/router_eval.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <set>

#include "core/file_io.h"
#include "model/model.h"
#include "runtime/perplexity.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace sy::coe {
namespace {

constexpr int64_t kMaxCtx = 512;  // switchyard perplexity's default: the training context, at most 512
constexpr size_t kMaxDomainFileBytes = size_t{64} << 20;
constexpr size_t kMaxDomains = 256;

struct DomainText {
  std::string name;
  std::string text;
};

Result<std::vector<DomainText>> read_domains(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return fail(ErrorCode::kNotFound, "'{}' is not a directory of DOMAIN.txt files", dir.string());
  std::vector<DomainText> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".txt") continue;
    auto text = read_file(entry.path(), "validation text", kMaxDomainFileBytes);
    if (!text) return tl::unexpected(text.error());
    out.push_back({entry.path().stem().string(), std::move(*text)});
    if (out.size() > kMaxDomains)
      return fail(ErrorCode::kInvalidInput, "'{}': more than {} domains", dir.string(), kMaxDomains);
  }
  if (ec) return fail(ErrorCode::kIo, "cannot list '{}': {}", dir.string(), ec.message());
  if (out.empty()) return fail(ErrorCode::kNotFound, "'{}' holds no .txt file", dir.string());
  std::sort(out.begin(), out.end(), [](const DomainText& a, const DomainText& b) { return a.name < b.name; });
  return out;
}

struct LoadedModel {
  std::string name;
  std::unique_ptr<model::Model> model;
  std::unique_ptr<tok::Tokenizer> tokenizer;
};

// Per-window NLL sums of one model over one domain's windows.
Result<std::vector<double>> window_nll(const model::Model& m, std::span<const runtime::PerplexityWindow> windows,
                                       int64_t ctx, int n_threads) {
  runtime::Session session(m, {.n_ctx = ctx, .n_threads = n_threads});
  std::vector<double> out;
  std::vector<float> logits;
  const auto n_vocab = static_cast<size_t>(session.n_vocab());
  for (const runtime::PerplexityWindow& w : windows) {
    session.reset();
    if (auto s = session.eval(w.tokens, logits); !s) return tl::unexpected(s.error());
    double sum = 0;
    for (size_t i = w.first_scored; i < w.tokens.size(); ++i)
      sum += runtime::token_nll(std::span<const float>(logits.data() + (i - 1) * n_vocab, n_vocab), w.tokens[i]);
    out.push_back(sum);
  }
  return out;
}

std::string percent(int64_t a, int64_t b) { return b > 0 ? fmt::format("{:.1f} %", 100.0 * a / b) : "-"; }

}  // namespace

std::vector<std::string> split_paragraphs(std::string_view text, size_t min_chars) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view p = text.substr(pos, end - pos);
    while (!p.empty() && p.front() == '\n') p.remove_prefix(1);
    while (!p.empty() && p.back() == '\n') p.remove_suffix(1);
    if (p.size() >= min_chars && !p.empty()) out.emplace_back(p);
    pos = end + 2;
  }
  return out;
}

double EvalReport::expert_model_accuracy() const {
  int64_t correct = 0, n = 0;
  for (const DomainEval& d : domains)
    if (d.expected_model != default_model) {
      correct += d.model_correct;
      n += d.paragraphs;
    }
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

double EvalReport::category_accuracy() const {
  int64_t correct = 0, n = 0;
  for (const DomainEval& d : domains) {
    correct += d.category_correct;
    n += d.paragraphs;
  }
  return n > 0 ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
}

Result<EvalReport> evaluate_router(const Composition& composition, PromptRouter& router,
                                   const std::filesystem::path& dir, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto domains = read_domains(dir);
  if (!domains) return tl::unexpected(domains.error());
  EvalReport report;
  report.router = std::string(router_kind_name(router.kind()));
  report.threshold = composition.router.threshold;
  report.default_model = composition.default_model;
  for (const ModelEntry& m : composition.models) report.models.push_back(m.name);
  std::set<std::string> seen_categories;
  bool seen_none = false;

  // Routing accuracy over paragraphs.
  for (const DomainText& dt : *domains) {
    DomainEval d;
    d.domain = dt.name;
    d.expected_model = composition.model_for_category(dt.name);
    std::vector<std::string> paragraphs = split_paragraphs(dt.text, options.min_paragraph_chars);
    if (options.max_paragraphs > 0 && paragraphs.size() > options.max_paragraphs)
      paragraphs.resize(options.max_paragraphs);
    for (const std::string& p : paragraphs) {
      auto decision = router.route(p);
      if (!decision) return tl::unexpected(decision.error());
      ++d.paragraphs;
      d.category_correct += decision->category == dt.name;
      d.model_correct += decision->model == d.expected_model;
      d.below_threshold += decision->confidence < composition.router.threshold || decision->category.empty();
      ++d.by_category[decision->category];
      ++d.by_model[decision->model];
      if (decision->category.empty()) {
        seen_none = true;
      } else {
        seen_categories.insert(decision->category);
      }
    }
    report.domains.push_back(std::move(d));
  }
  report.categories.assign(seen_categories.begin(), seen_categories.end());
  if (seen_none) report.categories.emplace_back();

  if (options.perplexity) {
    std::vector<LoadedModel> models;
    for (const ModelEntry& e : composition.models) {
      auto m = model::Model::open(e.path);
      if (!m) return fail(m.error().code, "model '{}': {}", e.name, m.error().message);
      auto t = tok::Tokenizer::from_gguf((*m)->file());
      if (!t) return fail(t.error().code, "model '{}': {}", e.name, t.error().message);
      if (!models.empty() && (t->vocab().tokens != models.front().tokenizer->vocab().tokens ||
                              t->vocab().scores != models.front().tokenizer->vocab().scores ||
                              t->vocab().special.bos != models.front().tokenizer->vocab().special.bos))
        return fail(ErrorCode::kInvalidInput,
                    "models '{}' and '{}' have different vocabularies: their perplexities are not comparable",
                    models.front().name, e.name);
      models.push_back({e.name, std::move(*m), std::make_unique<tok::Tokenizer>(std::move(*t))});
    }
    const tok::Tokenizer& tokenizer = *models.front().tokenizer;
    int64_t ctx = kMaxCtx;
    for (const LoadedModel& m : models) {
      const int64_t train = m.model->config().common.n_ctx_train;
      if (train > 0) ctx = std::min(ctx, train);
    }
    report.ctx = ctx;
    for (size_t di = 0; di < domains->size(); ++di) {
      DomainEval& d = report.domains[di];
      auto tokens = tokenizer.encode((*domains)[di].text, {.add_special = false, .parse_special = false});
      if (!tokens) return tl::unexpected(tokens.error());
      auto windows = runtime::perplexity_windows(*tokens, ctx, tokenizer.vocab().special.bos);
      if (!windows) return fail(windows.error().code, "{}.txt: {}", d.domain, windows.error().message);
      d.windows = static_cast<int64_t>(windows->size());
      for (const auto& w : *windows) d.tokens += static_cast<int64_t>(w.tokens.size() - w.first_scored);
      std::map<std::string, std::vector<double>> nll;
      for (const LoadedModel& m : models) {
        auto sums = window_nll(*m.model, *windows, ctx, options.n_threads);
        if (!sums) return fail(sums.error().code, "model '{}' on {}.txt: {}", m.name, d.domain, sums.error().message);
        double total = 0;
        for (const double s : *sums) total += s;
        d.ppl[m.name] = std::exp(total / static_cast<double>(d.tokens));
        nll[m.name] = std::move(*sums);
      }
      double routed = 0;
      for (size_t w = 0; w < windows->size(); ++w) {
        const auto& win = (*windows)[w];
        const std::string text = tokenizer.decode(
            std::span<const int32_t>(win.tokens).subspan(win.first_scored - (tokenizer.vocab().special.bos ? 0 : 1)),
            /*special=*/false);
        auto decision = router.route(text);
        if (!decision) return tl::unexpected(decision.error());
        const auto it = nll.find(decision->model);
        if (it == nll.end())
          return fail(ErrorCode::kInvalidInput, "the router chose '{}', which is not a model of the composition",
                      decision->model);
        routed += it->second[w];
        d.windows_to_expected += decision->model == d.expected_model;
      }
      d.routed_ppl = std::exp(routed / static_cast<double>(d.tokens));
      for (const auto& [name, ppl] : d.ppl)
        if (d.oracle_model.empty() || ppl < d.oracle_ppl) {
          d.oracle_model = name;
          d.oracle_ppl = ppl;
        }
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

nlohmann::json EvalReport::to_json() const {
  nlohmann::json doms = nlohmann::json::array();
  for (const DomainEval& d : domains) {
    nlohmann::json j = {{"domain", d.domain},
                        {"expected_model", d.expected_model},
                        {"paragraphs", d.paragraphs},
                        {"category_correct", d.category_correct},
                        {"model_correct", d.model_correct},
                        {"below_threshold", d.below_threshold},
                        {"by_category", d.by_category},
                        {"by_model", d.by_model}};
    if (d.tokens > 0) {
      j["tokens"] = d.tokens;
      j["windows"] = d.windows;
      j["windows_to_expected"] = d.windows_to_expected;
      j["ppl"] = d.ppl;
      j["routed_ppl"] = d.routed_ppl;
      j["oracle_ppl"] = d.oracle_ppl;
      j["oracle_model"] = d.oracle_model;
    }
    doms.push_back(std::move(j));
  }
  nlohmann::json confusion = nlohmann::json::array();
  for (const DomainEval& d : domains) {
    nlohmann::json row = nlohmann::json::array();
    for (const std::string& c : categories) {
      const auto it = d.by_category.find(c);
      row.push_back(it == d.by_category.end() ? 0 : it->second);
    }
    confusion.push_back(std::move(row));
  }
  return {{"router", router},
          {"threshold", threshold},
          {"default_model", default_model},
          {"models", models},
          {"categories", categories},
          {"confusion", confusion},
          {"category_accuracy", category_accuracy()},
          {"expert_model_accuracy", expert_model_accuracy()},
          {"ctx", ctx},
          {"seconds", seconds},
          {"domains", doms}};
}

std::string EvalReport::to_text() const {
  std::string out;
  int64_t n = 0, cat = 0, n_expert = 0, model_ok = 0;
  for (const DomainEval& d : domains) {
    n += d.paragraphs;
    cat += d.category_correct;
    if (d.expected_model != default_model) {
      n_expert += d.paragraphs;
      model_ok += d.model_correct;
    }
  }
  out += fmt::format("router {} (threshold {:.2f}, default model {}): {} paragraphs\n", router, threshold,
                     default_model, n);
  out += fmt::format("category accuracy {} ({} of {}); expert domains: model accuracy {} ({} of {})\n\n",
                     percent(cat, n), cat, n, percent(model_ok, n_expert), model_ok, n_expert);
  out += "| domain | expected model | paragraphs | category ok | model ok | below threshold |";
  for (const std::string& c : categories) out += fmt::format(" → {} |", c.empty() ? "(none)" : c);
  out += "\n| --- | --- | ---: | ---: | ---: | ---: |";
  for (size_t i = 0; i < categories.size(); ++i) out += " ---: |";
  out += "\n";
  for (const DomainEval& d : domains) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} |", d.domain, d.expected_model, d.paragraphs,
                       percent(d.category_correct, d.paragraphs), percent(d.model_correct, d.paragraphs),
                       d.below_threshold);
    for (const std::string& c : categories) {
      const auto it = d.by_category.find(c);
      out += fmt::format(" {} |", it == d.by_category.end() ? 0 : it->second);
    }
    out += "\n";
  }
  if (ctx == 0) return out;
  out += fmt::format("\nperplexity (ctx {}, every token once):\n\n| domain | tokens |", ctx);
  for (const std::string& m : models) out += fmt::format(" {} |", m);
  out += " routed | oracle | routed / oracle | windows to expected |\n| --- | ---: |";
  for (size_t i = 0; i < models.size(); ++i) out += " ---: |";
  out += " ---: | ---: | ---: | ---: |\n";
  for (const DomainEval& d : domains) {
    out += fmt::format("| {} | {} |", d.domain, d.tokens);
    for (const std::string& m : models) out += fmt::format(" {:.3f} |", d.ppl.at(m));
    out += fmt::format(" {:.3f} | {:.3f} ({}) | {:+.2f} % | {} |\n", d.routed_ppl, d.oracle_ppl, d.oracle_model,
                       100.0 * (d.routed_ppl / d.oracle_ppl - 1), percent(d.windows_to_expected, d.windows));
  }
  out += fmt::format("\n{:.1f} s\n", seconds);
  return out;
}

}  // namespace sy::coe
