// The embedding and llm routers on the shipped composition (models/composition.toml) and on hand-made
// classifiers: held-out paragraphs of each expert domain go to their expert, a confidence under the threshold
// goes to the default model, the llm router's scores are finite and name a model of the composition, and
// route() gives the same answers from several threads at once.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "coe/classifier.h"
#include "coe/composition.h"
#include "coe/embedding_router.h"
#include "coe/prompt_router.h"
#include "coe/router_eval.h"
#include "runtime/text_embedder.h"

namespace sy::coe {
namespace {

const std::filesystem::path kModels = std::filesystem::path(SY_SOURCE_DIR) / "models";

std::string read(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

Composition shipped() {
  auto c = load_composition(kModels / "composition.toml");
  EXPECT_TRUE(c) << c.error().message;
  return c ? *c : Composition{};
}

TEST(TextEmbedder, MeanHiddenStateIsFiniteAndDeterministic) {
  auto e = runtime::TextEmbedder::open(kModels / "switchyard-moe-mini.q8_0.gguf", {.n_threads = 1});
  ASSERT_TRUE(e) << e.error().message;
  auto a = (*e)->embed("Das Leben ist schön.");
  auto b = (*e)->embed("Das Leben ist schön.");
  auto c = (*e)->embed("def parse(path):\n    return open(path).read()\n");
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->size(), 256u);
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  for (const float v : *a) EXPECT_TRUE(std::isfinite(v));
  EXPECT_FALSE((*e)->embed(""));  // no tokens: nothing to average
  // A text longer than the bound is cut, not refused.
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  EXPECT_TRUE((*e)->embed(long_text));
}

TEST(EmbeddingRouter, HeldOutParagraphsGoToTheirExpert) {
  const Composition c = shipped();
  auto router = make_prompt_router(c, {.n_threads = 2});
  ASSERT_TRUE(router) << router.error().message;
  EXPECT_EQ((*router)->kind(), RouterKind::kEmbedding);
  for (const char* domain : {"code", "de", "ru"}) {
    const auto paragraphs =
        split_paragraphs(read(kModels / "switchyard-moe-mini.valid" / (std::string(domain) + ".txt")), 80);
    ASSERT_GE(paragraphs.size(), 3u);
    int correct = 0;
    for (size_t i = 0; i < 3; ++i) {
      auto d = (*router)->route(paragraphs[i]);
      ASSERT_TRUE(d) << d.error().message;
      correct += d->model == c.model_for_category(domain);
      EXPECT_GE(d->confidence, 0.0);
      EXPECT_LE(d->confidence, 1.0);
    }
    EXPECT_GE(correct, 2) << domain;
  }
  auto empty = (*router)->route("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->model, c.default_model);
}

TEST(EmbeddingRouter, BelowThresholdGoesToTheDefault) {
  Composition c = shipped();
  c.router.threshold = 0.6;
  std::shared_ptr<runtime::TextEmbedder> embedder(
      runtime::TextEmbedder::open(kModels / "switchyard-moe-mini.q8_0.gguf", {}).value().release());
  // Two categories with the same weights: each always gets probability 0.5.
  Classifier k;
  k.method = ClassifierMethod::kLogistic;
  k.embedder = embedder_id(*embedder);
  k.categories = {"code", "de"};
  k.dims = embedder->dims();
  k.mean.assign(static_cast<size_t>(k.dims), 0);
  k.scale.assign(static_cast<size_t>(k.dims), 1);
  k.weights.assign(static_cast<size_t>(2 * k.dims), 0.1f);
  k.bias = {0, 0};
  auto router = make_embedding_router(c, embedder, k, "two.json");
  ASSERT_TRUE(router) << router.error().message;
  auto d = (*router)->route("def f(): pass");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->model, c.default_model);
  EXPECT_NEAR(d->confidence, 0.5, 1e-9);
  EXPECT_NE(d->reason.find("below threshold"), std::string::npos);

  // A classifier trained on another embedder is refused, naming the field.
  k.embedder.bytes += 1;
  auto wrong = make_embedding_router(c, embedder, k, "two.json");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("'embedder.bytes'"), std::string::npos);
  k.embedder.bytes -= 1;
  k.embedder.dims = 8;
  EXPECT_FALSE(make_embedding_router(c, embedder, k, "two.json"));
}

TEST(EmbeddingRouter, MissingOrBrokenClassifierNamesTheFile) {
  Composition c = shipped();
  c.router.classifier = kModels / "composition" / "no-such-router.json";
  auto r = make_prompt_router(c, {});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("no-such-router.json"), std::string::npos);
}

TEST(EmbeddingRouter, RoutesFromSeveralThreadsAtOnce) {
  const Composition c = shipped();
  auto router = make_prompt_router(c, {.n_threads = 1});
  ASSERT_TRUE(router);
  const std::vector<std::string> prompts = {"import os\nprint(os.getcwd())", "Wer A sagt, muss auch B sagen.",
                                            "Тише едешь — дальше будешь."};
  std::vector<std::string> alone;
  for (const auto& p : prompts) alone.push_back((*router)->route(p).value().model);
  std::vector<std::string> together(prompts.size() * 4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < together.size(); ++t)
    threads.emplace_back([&, t] { together[t] = (*router)->route(prompts[t % prompts.size()]).value().model; });
  for (auto& t : threads) t.join();
  for (size_t t = 0; t < together.size(); ++t) EXPECT_EQ(together[t], alone[t % prompts.size()]);
}

TEST(LlmRouter, ScoresNameAModelOfTheComposition) {
  Composition c = shipped();
  c.router.kind = RouterKind::kLlm;
  c.router.scorer = "generalist";
  c.router.threshold = 0;
  auto router = make_prompt_router(c, {.n_threads = 2});
  ASSERT_TRUE(router) << router.error().message;
  EXPECT_EQ((*router)->kind(), RouterKind::kLlm);
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += "def f(x):\n    return x\n";
  for (const std::string& p :
       {std::string("def parse(path):\n    return path"), std::string("Привет, мир"), std::string(""), long_prompt}) {
    auto d = (*router)->route(p);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_NE(c.find(d->model), nullptr) << d->model;
    EXPECT_TRUE(std::isfinite(d->confidence));
    EXPECT_GT(d->confidence, 0.0);
    EXPECT_LE(d->confidence, 1.0);
    EXPECT_GE(d->confidence, 1.0 / static_cast<double>(c.models.size()) - 1e-12);  // the winner's share
  }
  c.router.threshold = 1.0;
  auto strict = make_prompt_router(c, {});
  ASSERT_TRUE(strict);
  auto d = (*strict)->route("def f(): pass");
  ASSERT_TRUE(d);
  if (d->confidence < 1.0) EXPECT_EQ(d->model, c.default_model);
}

TEST(RouterEval, SplitsParagraphsAtBlankLines) {
  const auto p = split_paragraphs("\nfirst paragraph here\n\nx\n\n\nsecond one, long enough\n", 10);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], "first paragraph here");
  EXPECT_EQ(p[1], "second one, long enough");
}

}  // namespace
}  // namespace sy::coe
