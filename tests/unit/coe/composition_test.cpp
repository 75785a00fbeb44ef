#include "coe/composition.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "coe/prompt_router.h"

namespace sy::coe {
namespace {

constexpr std::string_view kToml = R"(
budget = "64MiB"
default = "general"

[models.general]
path = "mini.gguf"
description = "everything else"
categories = ["en"]

[models.code]
path = "experts/code.gguf"
categories = ["code"]

[router]
kind = "rules"
[[router.rules]]
pattern = '(?m)^\s*(def|class|import)\s'
category = "code"
[[router.rules]]
pattern = '(?i)\bbitte\b'
model = "general"
)";

Composition parse_ok(std::string_view text, CompositionFormat format = CompositionFormat::kToml) {
  auto c = parse_composition(text, format, "/models", "c.toml");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? *c : Composition{};
}

std::string parse_error(std::string_view text, CompositionFormat format = CompositionFormat::kToml) {
  auto c = parse_composition(text, format, "/models", "c.toml");
  EXPECT_FALSE(c);
  return c ? "" : c.error().message;
}

TEST(Composition, ReadsModelsCategoriesBudgetAndRules) {
  const Composition c = parse_ok(kToml);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.budget_bytes, uint64_t{64} << 20);
  EXPECT_EQ(c.default_model, "general");
  const ModelEntry* code = c.find("code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->path, std::filesystem::path("/models/experts/code.gguf"));
  EXPECT_EQ(c.model_for_category("code"), "code");
  EXPECT_EQ(c.model_for_category("de"), "general");  // unclaimed: the default
  ASSERT_EQ(c.router.rules.size(), 2u);
  EXPECT_EQ(c.router.kind, RouterKind::kRules);
}

TEST(Composition, JsonSpellsTheSameKeys) {
  const Composition c = parse_ok(R"({"models": {"a": {"path": "a.gguf", "categories": ["de"]}},
                                     "router": {"kind": "rules", "rules": [{"pattern": "x", "model": "a"}]}})",
                                 CompositionFormat::kJson);
  EXPECT_EQ(c.default_model, "a");  // the first model by name when none is named
  EXPECT_EQ(c.budget_bytes, 0u);
  EXPECT_EQ(c.model_for_category("de"), "a");
}

TEST(Composition, ErrorsNameTheKey) {
  EXPECT_NE(parse_error("budget = 3\n").find("at least one model"), std::string::npos);
  EXPECT_NE(parse_error("[models.a]\npath = 'a.gguf'\n").find("[router]"), std::string::npos);
  EXPECT_NE(parse_error("[models.a]\npaht = 'a.gguf'\n[router]\nkind='rules'\n").find("unknown key 'paht'"),
            std::string::npos);
  EXPECT_NE(parse_error("[models.a]\npath = 'a.gguf'\n[router]\nkind='magic'\n").find("'magic'"), std::string::npos);
  EXPECT_NE(parse_error("[models.a]\npath='a.gguf'\ncategories=['x']\n[models.b]\npath='b.gguf'\ncategories=['x']\n"
                        "[router]\nkind='rules'\n[[router.rules]]\npattern='y'\nmodel='a'\n")
                .find("category 'x' is claimed by both"),
            std::string::npos);
  EXPECT_NE(parse_error("default='zz'\n[models.a]\npath='a.gguf'\n[router]\nkind='rules'\n[[router.rules]]\n"
                        "pattern='y'\nmodel='a'\n")
                .find("default model 'zz'"),
            std::string::npos);
  EXPECT_NE(parse_error("[models.auto]\npath='a.gguf'\n").find("'auto'"), std::string::npos);
  EXPECT_NE(parse_error("budget='lots'\n[models.a]\npath='a.gguf'\n").find("'budget'"), std::string::npos);
  EXPECT_NE(parse_error("[models.a\n").find("line 1"), std::string::npos);
  EXPECT_NE(parse_error("{", CompositionFormat::kJson).find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[models.a]\npath='a.gguf'\n[router]\nkind='embedding'\n").find("'embedder'"),
            std::string::npos);
}

// A directory, a FIFO or a missing file where the composition belongs: errors that name the path, never a hang
// (a FIFO with no writer would block a plain open and read).
TEST(Composition, LoadRefusesWhatIsNotARegularFile) {
  const auto dir = std::filesystem::temp_directory_path() / "sy_composition_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "a-dir.toml");
  ASSERT_EQ(::mkfifo((dir / "fifo.toml").c_str(), 0600), 0);
  for (const char* name : {"a-dir.toml", "fifo.toml", "missing.toml"}) {
    auto c = load_composition(dir / name);
    ASSERT_FALSE(c) << name;
    EXPECT_NE(c.error().message.find(name), std::string::npos) << c.error().message;
  }
  auto ext = load_composition(dir / "composition.yaml");
  ASSERT_FALSE(ext);
  EXPECT_NE(ext.error().message.find(".toml or .json"), std::string::npos) << ext.error().message;
  std::filesystem::remove_all(dir);
}

TEST(RulesRouter, FirstMatchingRuleWinsElseDefault) {
  const Composition c = parse_ok(kToml);
  auto router = make_prompt_router(c, {});
  ASSERT_TRUE(router) << router.error().message;
  auto code = (*router)->route("Please finish this:\n  def parse(path):\n");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->model, "code");
  EXPECT_EQ(code->category, "code");
  EXPECT_EQ(code->reason, "rule 1 matched");
  auto bitte = (*router)->route("Erzähl mir BITTE einen Witz");
  ASSERT_TRUE(bitte);
  EXPECT_EQ(bitte->model, "general");
  EXPECT_EQ(bitte->category, "");
  auto none = (*router)->route("Tell me a joke");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->model, "general");
  EXPECT_EQ(none->confidence, 0.0);
  // Invalid UTF-8 is a non-match, not a crash.
  auto bad = (*router)->route("\xff\xfe def x");
  ASSERT_TRUE(bad);
}

TEST(RulesRouter, CatastrophicPatternIsBoundedAndABadPatternIsAnError) {
  Composition c = parse_ok(kToml);
  c.router.rules = {{"(a+)+$", "", "code"}};
  auto router = make_prompt_router(c, {});
  ASSERT_TRUE(router);
  auto d = (*router)->route(std::string(5000, 'a') + "!");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->model, "general");
  EXPECT_NE(d->reason.find("match limit"), std::string::npos) << d->reason;
  c.router.rules = {{"(unclosed", "", "code"}};
  auto broken = make_prompt_router(c, {});
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("rule 1"), std::string::npos);
}

}  // namespace
}  // namespace sy::coe
