#include "coe/classifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace sy::coe {
namespace {

using json = nlohmann::json;

// A valid two-category, two-dimension classifier file.
json valid_file() {
  return {{"format", "switchyard-router"},
          {"version", 1},
          {"method", "logistic"},
          {"embedder", {{"file", "m.gguf"}, {"bytes", 100}, {"arch", "qwen3moe"}, {"dims", 2}}},
          {"categories", {"a", "b"}},
          {"dims", 2},
          {"mean", {0.0, 0.0}},
          {"scale", {1.0, 1.0}},
          {"weights", {{1.0, 0.0}, {-1.0, 0.0}}},
          {"bias", {0.0, 0.0}},
          {"temperature", 1.0},
          {"examples", 4}};
}

std::string error_of(const std::string& text) {
  auto c = parse_classifier(text, "r.json");
  EXPECT_FALSE(c) << text;
  return c ? "" : c.error().message;
}

TEST(Classifier, ReadsWhatItWrites) {
  auto c = parse_classifier(valid_file().dump(), "r.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->categories, (std::vector<std::string>{"a", "b"}));
  auto again = parse_classifier(classifier_json(*c), "again.json");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->weights, c->weights);
  EXPECT_EQ(again->embedder.file, "m.gguf");
  const std::vector<float> x = {2.0f, 0.0f};
  const auto p = again->probabilities(x);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
  EXPECT_GT(p[0], 0.9);
}

TEST(Classifier, ErrorsNameTheFileAndField) {
  EXPECT_NE(error_of("{").find("r.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[]").find("top level"), std::string::npos);
  auto with = [](const char* key, json value) {
    json j = valid_file();
    j[key] = std::move(value);
    return j.dump();
  };
  EXPECT_NE(error_of(with("format", "other")).find("'format'"), std::string::npos);
  EXPECT_NE(error_of(with("version", 2)).find("'version' 2"), std::string::npos);
  EXPECT_NE(error_of(with("method", "knn")).find("'method'"), std::string::npos);
  EXPECT_NE(error_of(with("dims", 3)).find("'dims' 3 differs"), std::string::npos);
  EXPECT_NE(error_of(with("dims", 1 << 30)).find("'dims'"), std::string::npos);
  EXPECT_NE(error_of(with("mean", {0.0})).find("'mean' has 1 values, expected 2"), std::string::npos);
  EXPECT_NE(error_of(with("mean", {0.0, 1e300})).find("'mean[1]'"), std::string::npos);
  EXPECT_NE(error_of(with("mean", {0.0, "x"})).find("'mean[1]' must be a number"), std::string::npos);
  EXPECT_NE(error_of(with("scale", {1.0, 0.0})).find("'scale[1]' must be positive"), std::string::npos);
  EXPECT_NE(error_of(with("weights", {{1.0, 0.0}})).find("'weights' has 1 rows"), std::string::npos);
  EXPECT_NE(error_of(with("weights", {{1.0, 0.0}, {1.0}})).find("'weights[1]'"), std::string::npos);
  EXPECT_NE(error_of(with("bias", {0.0})).find("'bias'"), std::string::npos);
  EXPECT_NE(error_of(with("categories", {"a", "a"})).find("repeats 'a'"), std::string::npos);
  EXPECT_NE(error_of(with("categories", json::array())).find("'categories'"), std::string::npos);
  EXPECT_NE(error_of(with("temperature", -1.0)).find("'temperature'"), std::string::npos);
  EXPECT_NE(error_of(with("embedder", "m.gguf")).find("'embedder'"), std::string::npos);
  json j = valid_file();
  j.erase("bias");
  EXPECT_NE(error_of(j.dump()).find("missing 'bias'"), std::string::npos);
  // A number too large for a double is refused as well (by the JSON reader or by the range check).
  std::string huge = valid_file().dump();
  huge.replace(huge.find("\"temperature\":1.0"), 17, "\"temperature\":1e999");
  EXPECT_FALSE(error_of(huge).empty());
}

TEST(Classifier, BothMethodsSeparateSeparableData) {
  // Two clusters in 3 dimensions.
  const std::vector<float> x = {5, 1, 0, 6, 1.5f, 0.2f, 5.5f, 0.5f, 0.1f, -5, 1, 0, -6, 0.7f, 0.3f, -4.5f, 1.2f, 0};
  const std::vector<int32_t> y = {0, 0, 0, 1, 1, 1};
  const EmbedderId id{.file = "m.gguf", .bytes = 1, .arch = "qwen3moe", .dims = 3};
  for (const auto method : {ClassifierMethod::kCentroid, ClassifierMethod::kLogistic}) {
    auto c = train_classifier(x, y, {"left", "right"}, id, {.method = method});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->method, method);
    for (size_t e = 0; e < y.size(); ++e) {
      const auto p = c->probabilities(std::span<const float>(x.data() + e * 3, 3));
      EXPECT_GT(p[static_cast<size_t>(y[e])], 0.5) << classifier_method_name(method) << " example " << e;
    }
    auto back = parse_classifier(classifier_json(*c), "round.json");
    ASSERT_TRUE(back) << back.error().message;
  }
  // A category without examples cannot be learnt.
  EXPECT_FALSE(train_classifier(x, y, {"left", "right", "up"}, id, {}));
}

}  // namespace
}  // namespace sy::coe
