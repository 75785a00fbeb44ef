// Chat-template errors and limits: every unsupported construct names itself, syntax errors give a line and
// column, and hostile templates end with an error rather than a crash, a hang or unbounded memory.
#include "tokenizer/chat/chat_template.h"

#include <gtest/gtest.h>

#include <string>

namespace sy::chat {
namespace {

std::string error_of(const std::string& source, const ChatInput& input = {}, RenderLimits limits = {}) {
  auto t = ChatTemplate::parse(source);
  if (!t) return t.error().message;
  auto result = t->render(input, limits);
  if (result) return "rendered: " + *result;
  return result.error().message;
}

void expect_error(const std::string& source, const std::string& fragment, RenderLimits limits = {}) {
  const std::string message = error_of(source, {}, limits);
  EXPECT_NE(message.find(fragment), std::string::npos) << "template: " << source << "\nerror: " << message;
  EXPECT_EQ(message.rfind("rendered: ", 0), std::string::npos) << source;
}

TEST(ChatTemplateErrors, UnsupportedStatementsAreNamed) {
  for (const char* name : {"include", "extends", "block", "import", "from", "raw", "with", "autoescape", "do"})
    expect_error(fmt::format("a\n{{% {} 'x' %}}", name),
                 fmt::format("line 2, column 4: unsupported statement '{}'", name));
}

TEST(ChatTemplateErrors, UnsupportedFiltersTestsAndMethodsAreNamed) {
  expect_error("{{ 'x'|wordcount }}", "unsupported filter 'wordcount'");
  expect_error("{{ [1]|select('odd') }}", "unsupported filter 'select'");
  expect_error("{{ [1]|map('upper') }}", "map without attribute");
  expect_error("{{ 3 is divisibleby(3) }}", "test 'divisibleby' with arguments");
  expect_error("{{ 3 is prime }}", "unknown test 'prime'");
  expect_error("{% set xs = [] %}{{ xs.append(1) }}", "method 'append' is undefined, not a function");
  expect_error("{{ nothing() }}", "'nothing' is undefined, not a function");
  expect_error("{{ (1, 2) }}", "cannot print a tuple");
}

TEST(ChatTemplateErrors, SyntaxErrorsHaveLineAndColumn) {
  expect_error("ok\n  {% if x %}never closed", "line 2, column 3: 'if' block is never closed");
  expect_error("{{ 'unterminated }}", "unterminated string literal");
  expect_error("{{ x + }}", "unexpected '}}'");
  expect_error("{# no end", "comment is not closed");
  expect_error("{{ x", "unexpected end of template");
  expect_error("{% endfor %}", "unsupported statement 'endfor'");
  expect_error("{{ a ^ b }}", "unexpected character '^'");
  expect_error("{{ 'é' }}{{ ü }}", "column 14: unexpected character 'ü'");
}

TEST(ChatTemplateErrors, RuntimeErrorsPointAtTheExpression) {
  expect_error("line one\n\n  {{ none + 1 }}", "line 3, column 11: cannot apply '+' to none");
  expect_error("{{ raise_exception('Roles must alternate') }}", "raise_exception: Roles must alternate");
  expect_error("{{ {}.x.y + 1 }}", "cannot apply '+' to an undefined value");
  expect_error("{% break %}", "outside a loop");
}

TEST(ChatTemplateLimits, DeepNestingIsAnErrorNotAStackOverflow) {
  expect_error("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}", "nesting deeper than");
  expect_error(std::string(50000, '-') + "{{ " + std::string(50000, '-') + "1 }}", "");
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  expect_error(ifs, "nesting deeper than");
}

TEST(ChatTemplateLimits, RunawayTemplatesStop) {
  expect_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls nested deeper than");
  expect_error("{{ range(100000000)|length }}", "more than the limit");
  expect_error("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
               "more than the limit");
  // The default budget ends this in seconds; a small one keeps the test quick.
  expect_error("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}", "work budget",
               RenderLimits{.max_work = 1 << 20});
  expect_error("{% set ns = namespace(a=[1]) %}{% for i in range(64) %}{% set ns.a = ns.a + ns.a %}{% endfor %}",
               "more than the limit");
}

TEST(ChatTemplateLimits, SelfReferenceAndHugeTextAreErrors) {
  expect_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", "nested deeper than");
  const std::string big =
      "{% set ns = namespace(s='x', a=[]) %}{% for i in range(20) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
      "{% set ns.a = [ns.s] %}{% for i in range(12) %}{% set ns.a = ns.a + ns.a %}{% endfor %}";
  expect_error(big + "{{ ns.a|tojson }}", "limit");
  expect_error(big + "{{ ns.a }}", "limit");
  expect_error(big + "{{ ns.a|join(',') }}", "limit");
  expect_error(big + "{{ 'a' ~ ns.a }}", "limit");
  ChatInput deep;
  std::string nested = "1";
  for (int i = 0; i < 1000; ++i) nested = "[" + nested + "]";
  deep.extra = nlohmann::ordered_json::parse(R"({"x": )" + nested + "}");
  EXPECT_NE(error_of("{{ x }}", deep).find("nested deeper than"), std::string::npos);
}

TEST(ChatTemplate, InputVariables) {
  ChatInput input;
  input.messages = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi", "n": 2.0, "m": 2.5}])");
  input.bos_token = "<s>";
  input.add_generation_prompt = true;
  input.extra = nlohmann::ordered_json::parse(R"({"enable_thinking": false, "obj": {"b": 1, "10": 2, "2": 3}})");
  auto out = render_chat(
      "{{ bos_token }}{{ messages[0].content }} {{ messages[0].n }} {{ messages[0].m }} {{ add_generation_prompt }} "
      "{{ enable_thinking is false }} {{ tools is defined }} {{ eos_token is defined }} {{ obj|tojson }}",
      input);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  // JSON 2.0 is the integer 2 (as JSON.parse sees it); index-like keys come first in ascending order.
  EXPECT_EQ(*out, R"(<s>hi 2 2.5 true true false false {"2": 3, "10": 2, "b": 1})");

  input.tools = nlohmann::ordered_json::array();
  out = render_chat("{{ tools is defined }}{{ tools|length }}", input);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, "true0");

  input.extra = nlohmann::ordered_json::parse(R"({"true": 1})");
  EXPECT_NE(error_of("x", input).find("'true' is already declared"), std::string::npos);
}

TEST(ChatTemplate, StrftimeNowUsesTheGivenTime) {
  setenv("TZ", "UTC", 1);
  tzset();
  ChatInput input;
  input.now = 1763900000;  // 2025-11-23 12:13:20 UTC
  auto out = render_chat("{{ strftime_now('%Y-%m-%d %H:%M %b %B %d, %Y %%') }}", input);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(*out, "2025-11-23 12:13 Nov November 23, 2025 %");
}

TEST(ChatTemplate, ParsedTemplateRendersManyTimes) {
  auto t = ChatTemplate::parse("{% for m in messages %}[{{ m.role }}]{% endfor %}");
  ASSERT_TRUE(t.has_value());
  ChatInput input;
  input.messages = nlohmann::ordered_json::parse(R"([{"role": "user"}, {"role": "assistant"}])");
  EXPECT_EQ(t->render(input).value_or("error"), "[user][assistant]");
  input.messages = nlohmann::ordered_json::array();
  EXPECT_EQ(t->render(input).value_or("error"), "");
}

TEST(ChatTemplate, GenerationTagIsRemoved) {
  // transformers' {% generation %} marks assistant spans for training masks; rendering ignores it.
  auto out = render_chat("A {%- generation %} B {% endgeneration -%} C", {});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(*out, "A B C");
}

}  // namespace
}  // namespace sy::chat
