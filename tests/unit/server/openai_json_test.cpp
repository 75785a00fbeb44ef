#include "server/http/openai_json.h"

#include <gtest/gtest.h>

namespace sy::server {
namespace {

using nlohmann::json;

TEST(OpenAiJson, ErrorObjectShape) {
  const json e = error_json({.status = 400, .type = "invalid_request_error", .message = "m", .param = "p", .code = {}});
  EXPECT_EQ(e["error"]["message"], "m");
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["param"], "p");
  EXPECT_TRUE(e["error"]["code"].is_null());
}

TEST(OpenAiJson, DumpReplacesBytesThatAreNotUtf8) {
  const std::string text = dump(json{{"t", std::string("a\xff"
                                                       "b")}});
  EXPECT_EQ(text,
            "{\"t\":\"a\xEF\xBF\xBD"
            "b\"}");
  EXPECT_NO_THROW((void)json::parse(text));
}

TEST(OpenAiJson, RoutingPerTokenAndSummary) {
  RoutingRequest r;
  r.policy = "top-k:1";
  r.give_back = RoutingRequest::Return::kPerToken;
  JobResult result;
  result.load = {{2, {1, 0, 3}}, {5, {0, 4, 0}}};
  std::vector<GeneratedToken> tokens(2);
  tokens[0].id = 7;
  tokens[0].routing = {{.layer = 2, .ids = {2}, .weights = {1.0f}}, {.layer = 5, .ids = {1}, .weights = {0.123456f}}};
  tokens[1].id = -1;  // text only: no routing entry
  const json j = routing_json(r, &result, tokens);
  EXPECT_EQ(j["policy"], "top-k:1");
  EXPECT_EQ(j["moe_layers"], json::array({2, 5}));
  EXPECT_EQ(j["layers"][1]["load"], json::array({0, 4, 0}));
  ASSERT_EQ(j["tokens"].size(), 1u);
  EXPECT_EQ(j["tokens"][0]["experts"], json::parse("[[2], [1]]"));
  EXPECT_DOUBLE_EQ(j["tokens"][0]["weights"][1][0].get<double>(), 0.1235);
}

TEST(OpenAiJson, FinishReasonsAreOpenAis) {
  EXPECT_STREQ(openai_finish_reason(FinishReason::kStop), "stop");
  EXPECT_STREQ(openai_finish_reason(FinishReason::kLength), "length");
  EXPECT_STREQ(openai_finish_reason(FinishReason::kTimeout), "length");
}

}  // namespace
}  // namespace sy::server
