// Fuzz target: a composition file (`serve --models FILE`, `router eval --models FILE`) from bytes to a routed
// prompt: coe::parse_composition (TOML through toml++, or JSON), then, for a `rules` router, the compiled
// patterns routing the input itself as a prompt (PCRE2 with match limits: a hostile pattern or prompt must not
// hang). Input: byte 0 picks the format (even: TOML, odd: JSON); the rest is the file. Every error must say
// something; every decision must name a model of the composition with a confidence in [0, 1].
#include <string>
#include <string_view>

#include "coe/composition.h"
#include "coe/prompt_router.h"
#include "fuzz/fuzz_target.h"

SY_FUZZ_TARGET(composition) {
  if (size < 1) return 0;
  const auto format = data[0] % 2 == 0 ? sy::coe::CompositionFormat::kToml : sy::coe::CompositionFormat::kJson;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto c = sy::coe::parse_composition(text, format, "/nonexistent", "fuzz.toml");
  if (!c) {
    if (c.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (c->models.empty() || c->find(c->default_model) == nullptr) __builtin_trap();
  for (const auto& [category, model] : c->category_model)
    if (c->find(model) == nullptr) __builtin_trap();
  if (c->router.kind != sy::coe::RouterKind::kRules) return 0;  // the others load model files
  auto router = sy::coe::make_prompt_router(*c, {});
  if (!router) {
    if (router.error().message.empty()) __builtin_trap();
    return 0;
  }
  for (const std::string_view prompt : {text, std::string_view("def f(x):\n  return x"), std::string_view()}) {
    auto d = (*router)->route(prompt);
    if (!d) __builtin_trap();  // rules never fail: an unplaceable prompt goes to the default model
    if (c->find(d->model) == nullptr || !(d->confidence >= 0.0 && d->confidence <= 1.0) || d->reason.empty())
      __builtin_trap();
  }
  return 0;
}
