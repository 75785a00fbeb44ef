#include "server/core/request.h"

#include <gtest/gtest.h>

#include <string>

namespace sy::server {
namespace {

using nlohmann::json;

json body(std::string_view text) {
  auto b = parse_json_body(text);
  EXPECT_TRUE(b) << b.error().message;
  return b ? *b : json::object();
}

// The field a request is refused for ("" when it is accepted).
std::string chat_error_param(std::string_view text) {
  auto r = parse_chat_request(body(text), {});
  return r ? std::string("(accepted)") : r.error().param;
}
std::string completion_error_param(std::string_view text) {
  auto r = parse_completion_request(body(text), {});
  return r ? std::string("(accepted)") : r.error().param;
}

TEST(ParseJsonBody, RefusesMalformedTruncatedAndNonObjectBodies) {
  for (const char* text : {"", "{", "{\"a\":", "{\"a\": 1,}", "nope", "[1]", "\"s\"", "null", "{\"a\": \"\\ud800\"}"}) {
    auto r = parse_json_body(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().type, "invalid_request_error");
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(ParseJsonBody, RefusesDeepNestingBeforeParsing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = parse_json_body(deep);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("deeper than"), std::string::npos) << r.error().message;
  // Brackets inside strings do not count.
  EXPECT_TRUE(parse_json_body("{\"a\": \"" + std::string(1000, '[') + "\"}"));
}

TEST(ParseChat, TakesMessagesSamplingAndExtensions) {
  RequestDefaults d;
  d.sampling.temperature = 0.5f;
  d.max_tokens = 33;
  auto r = parse_chat_request(body(R"({"model": "m", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "assistant", "content": null}],
    "max_completion_tokens": 7, "top_p": 0.5, "seed": -3, "stop": "x", "stream": true,
    "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2, "n": 1,
    "routing": {"policy": "top-k:1", "expert_mask": {"0-1": [2, 3], "*": [5]}, "return": "per_token"},
    "unknown_field": {"ignored": true}})"),
                              d);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0]["role"], "system");
  EXPECT_EQ(r->messages[1]["content"], "ab");
  EXPECT_EQ(r->messages[2]["content"], "");
  EXPECT_EQ(r->max_tokens, 7);
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.5f);  // the server's default
  EXPECT_FLOAT_EQ(r->sampling.top_p, 0.5f);
  EXPECT_TRUE(r->seed_given);
  EXPECT_EQ(r->sampling.seed, static_cast<uint64_t>(-3));
  EXPECT_EQ(r->stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(r->stream && r->include_usage && r->logprobs);
  EXPECT_EQ(r->top_logprobs, 2);
  EXPECT_EQ(r->routing.policy, "top-k:1");
  EXPECT_EQ(r->routing.mask_text, "*: 5\n0-1: 2 3\n");
  EXPECT_EQ(r->routing.give_back, RoutingRequest::Return::kPerToken);
  EXPECT_FALSE(r->routing.key().empty());
}

TEST(ParseChat, NamesTheFieldOfEveryRefusal) {
  EXPECT_EQ(chat_error_param(R"({})"), "messages");
  EXPECT_EQ(chat_error_param(R"({"messages": "hi"})"), "messages");
  EXPECT_EQ(chat_error_param(R"({"messages": []})"), "messages");
  EXPECT_EQ(chat_error_param(R"({"messages": [3]})"), "messages[0]");
  EXPECT_EQ(chat_error_param(R"({"messages": [{"content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(chat_error_param(R"({"messages": [{"role": "bot", "content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(chat_error_param(R"({"messages": [{"role": "user"}]})"), "messages[0].content");
  EXPECT_EQ(chat_error_param(R"({"messages": [{"role": "user", "content": 1}]})"), "messages[0].content");
  EXPECT_EQ(chat_error_param(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
            "messages[0].content[0].type");
  const std::string m = R"("messages": [{"role": "user", "content": "x"}])";
  auto with = [&](const std::string& extra) { return chat_error_param("{" + m + ", " + extra + "}"); };
  EXPECT_EQ(with(R"("max_tokens": "5")"), "max_tokens");
  EXPECT_EQ(with(R"("max_tokens": 0)"), "max_tokens");
  EXPECT_EQ(with(R"("max_tokens": 2.5)"), "max_tokens");
  EXPECT_EQ(with(R"("max_completion_tokens": -1)"), "max_completion_tokens");
  EXPECT_EQ(with(R"("temperature": 2.5)"), "temperature");
  EXPECT_EQ(with(R"("temperature": "hot")"), "temperature");
  EXPECT_EQ(with(R"("top_p": -0.1)"), "top_p");
  EXPECT_EQ(with(R"("top_k": -1)"), "top_k");
  EXPECT_EQ(with(R"("seed": 18446744073709551615)"), "seed");
  EXPECT_EQ(with(R"("n": 2)"), "n");
  EXPECT_EQ(with(R"("stream": 1)"), "stream");
  EXPECT_EQ(with(R"("stream_options": {"include_usage": "yes"})"), "stream_options.include_usage");
  EXPECT_EQ(with(R"("stop": [1])"), "stop[0]");
  EXPECT_EQ(with(R"("stop": ["a", "b", "c", "d", "e"])"), "stop");
  EXPECT_EQ(with(R"("top_logprobs": 2)"), "top_logprobs");  // without logprobs
  EXPECT_EQ(with(R"("logprobs": true, "top_logprobs": 21)"), "top_logprobs");
  EXPECT_EQ(with(R"("presence_penalty": 2.5)"), "presence_penalty");
  EXPECT_EQ(with(R"("frequency_penalty": -3)"), "frequency_penalty");
  EXPECT_EQ(with(R"("frequency_penalty": "much")"), "frequency_penalty");
  EXPECT_EQ(with(R"("tools": [{"type": "function"}])"), "tools");
  EXPECT_EQ(with(R"("response_format": {"type": "json_object"})"), "response_format.type");
  EXPECT_EQ(with(R"("routing": "top-k:1")"), "routing");
  EXPECT_EQ(with(R"("routing": {"policy": 1})"), "routing.policy");
  EXPECT_EQ(with(R"("routing": {"expert_mask": {"a": [1]}})"), "routing.expert_mask.a");
  EXPECT_EQ(with(R"("routing": {"expert_mask": {"1": [1.5]}})"), "routing.expert_mask.1[0]");
  EXPECT_EQ(with(R"("routing": {"bias": {"1": ["x"]}})"), "routing.bias.1[0]");
  EXPECT_EQ(with(R"("routing": {"return": "everything"})"), "routing.return");
  // null means "not set", as OpenAI's clients send it.
  EXPECT_EQ(with(R"("temperature": null, "stop": null, "max_tokens": null, "tools": [])"), "(accepted)");
}

TEST(ParseCompletion, TakesTextOrTokenPrompts) {
  auto text = parse_completion_request(body(R"({"prompt": ["one"], "echo": true, "logprobs": 2})"), {});
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(text->prompt_text, "one");
  EXPECT_FALSE(text->prompt_is_tokens);
  EXPECT_TRUE(text->echo && text->logprobs);
  EXPECT_EQ(text->top_logprobs, 2);
  auto ids = parse_completion_request(body(R"({"prompt": [[1, 2, 3]], "ignore_eos": true})"), {});
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_TRUE(ids->prompt_is_tokens);
  EXPECT_EQ(ids->prompt_tokens, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_TRUE(ids->ignore_eos);

  EXPECT_EQ(completion_error_param(R"({})"), "prompt");
  EXPECT_EQ(completion_error_param(R"({"prompt": 3})"), "prompt");
  EXPECT_EQ(completion_error_param(R"({"prompt": []})"), "prompt");
  EXPECT_EQ(completion_error_param(R"({"prompt": ["a", "b"]})"), "prompt");
  EXPECT_EQ(completion_error_param(R"({"prompt": [1, -1]})"), "prompt[1]");
  EXPECT_EQ(completion_error_param(R"({"prompt": [1, 3000000000]})"), "prompt[1]");
  EXPECT_EQ(completion_error_param(R"({"prompt": "x", "logprobs": 6})"), "logprobs");
  EXPECT_EQ(completion_error_param(R"({"prompt": "x", "echo": "yes"})"), "echo");
}

TEST(ParseTokenize, ChecksContentAndIds) {
  auto t = parse_tokenize_request(body(R"({"content": "hi", "add_special": true, "with_pieces": true})"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->content, "hi");
  EXPECT_TRUE(t->add_special && t->with_pieces && t->parse_special);
  EXPECT_EQ(parse_tokenize_request(body(R"({"content": 1})")).error().param, "content");
  EXPECT_EQ(parse_tokenize_request(body(R"({})")).error().param, "content");

  auto d = parse_detokenize_request(body(R"({"tokens": [0, 9]})"), 10);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, (std::vector<int32_t>{0, 9}));
  EXPECT_EQ(parse_detokenize_request(body(R"({"tokens": [10]})"), 10).error().param, "tokens[0]");
  EXPECT_EQ(parse_detokenize_request(body(R"({"tokens": [1, "a"]})"), 10).error().param, "tokens[1]");
  EXPECT_EQ(parse_detokenize_request(body(R"({"tokens": 1})"), 10).error().param, "tokens");
}

}  // namespace
}  // namespace sy::server
