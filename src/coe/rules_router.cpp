#include "coe/rules_router.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <pcre2.h>

#include <vector>

namespace sy::coe {
namespace {

// Bounds on one match, so that a pattern with nested quantifiers cannot spin on a long hostile prompt.
constexpr uint32_t kMatchLimit = 1'000'000;
constexpr uint32_t kDepthLimit = 10'000;

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
};

struct CompiledRule {
  std::unique_ptr<pcre2_code, CodeDeleter> code;
  std::string category;
  std::string model;
};

class RulesRouter final : public PromptRouter {
 public:
  RulesRouter(const Composition& composition, std::vector<CompiledRule> rules)
      : composition_(composition), rules_(std::move(rules)) {}

  RouterKind kind() const override { return RouterKind::kRules; }

  Result<RouteDecision> route(std::string_view prompt) override {
    // Match data and context per call: route() runs on several threads at once.
    std::unique_ptr<pcre2_match_context, MatchContextDeleter> context(pcre2_match_context_create(nullptr));
    if (!context) return fail(ErrorCode::kIo, "rules router: out of memory");
    pcre2_set_match_limit(context.get(), kMatchLimit);
    pcre2_set_depth_limit(context.get(), kDepthLimit);
    std::string limited;
    for (size_t i = 0; i < rules_.size(); ++i) {
      const CompiledRule& rule = rules_[i];
      std::unique_ptr<pcre2_match_data, MatchDataDeleter> data(
          pcre2_match_data_create_from_pattern(rule.code.get(), nullptr));
      if (!data) return fail(ErrorCode::kIo, "rules router: out of memory");
      // Invalid UTF-8 in the prompt is a non-match (PCRE2 reports it as an error), not a failure of the request.
      const int rc = pcre2_match(rule.code.get(), reinterpret_cast<PCRE2_SPTR>(prompt.data()), prompt.size(), 0, 0,
                                 data.get(), context.get());
      if (rc >= 0) {
        RouteDecision d;
        d.category = rule.category;
        d.model = rule.model.empty() ? composition_.model_for_category(rule.category) : rule.model;
        d.confidence = 1.0;
        d.reason = fmt::format("rule {} matched", i + 1);
        return d;
      }
      if ((rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) && limited.empty())
        limited = fmt::format(" (rule {} gave up at its match limit)", i + 1);
    }
    RouteDecision d;
    d.model = composition_.default_model;
    d.confidence = 0.0;
    d.reason = "no rule matched: default model" + limited;
    return d;
  }

 private:
  const Composition& composition_;
  std::vector<CompiledRule> rules_;
};

}  // namespace

Result<std::unique_ptr<PromptRouter>> make_rules_router(const Composition& composition) {
  std::vector<CompiledRule> rules;
  for (size_t i = 0; i < composition.router.rules.size(); ++i) {
    const RouterRule& rule = composition.router.rules[i];
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rule.pattern.data()), rule.pattern.size(), PCRE2_UTF,
                                     &error, &offset, nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return fail(ErrorCode::kInvalidInput, "{}: router rule {}: pattern does not compile at offset {}: {}",
                  composition.source.string(), i + 1, offset, reinterpret_cast<const char*>(message));
    }
    rules.push_back({std::unique_ptr<pcre2_code, CodeDeleter>(code), rule.category, rule.model});
  }
  return std::make_unique<RulesRouter>(composition, std::move(rules));
}

}  // namespace sy::coe
