// Jinja interpreter on small hand-written templates. Every expected string was written by hand and checked
// against @huggingface/jinja 0.5.11 (the reference the chat templates must match); std::nullopt marks a
// template the reference rejects too.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tokenizer/chat/chat_template.h"

namespace sy::chat {
namespace {

struct Case {
  const char* source;
  const char* variables;  // JSON object; "messages" goes to ChatInput::messages, the rest to extra
  std::optional<std::string> expected;
};

ChatInput input_from(const char* variables) {
  ChatInput input;
  auto vars = nlohmann::ordered_json::parse(variables);
  if (vars.contains("messages")) {
    input.messages = vars["messages"];
    vars.erase("messages");
  }
  input.extra = vars;
  return input;
}

const Case kCases[] = {
    {R"J(Hello {{ name }}!)J", R"J({"name": "world"})J", R"J(Hello world!)J"},
    {R"J({{ 1 + 2 * 3 }}|{{ 7 // 2 }}|{{ 7 / 2 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ 1.0 }}|{{ 1.5 + 1 }})J", R"J({})J",
     R"J(7|3|3.5|-1|1024|1.0|2.5)J"},
    {R"J({{ 'a' ~ 1 ~ 1.0 ~ true ~ none }})J", R"J({})J", std::nullopt},
    {R"J({{ 'a' ~ 1 ~ 2.50 ~ true }})J", R"J({})J", R"J(a12.5true)J"},
    {R"J({{ true }} {{ none }} {{ undefined_var }} {{ [1, 'a', none, true] }} {{ {'k': [1.0, 2]} }})J", R"J({})J",
     R"J(true   [1, "a", null, true] {"k": [1, 2]})J"},
    {R"J({% if x is defined and x is not none %}D{% elif y %}Y{% else %}E{% endif %})J", R"J({"y": 1})J", R"J(Y)J"},
    {R"J({% for m in ms %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}-{% endfor %})J",
     R"J({"ms": ["a", "b"]})J", R"J(10truefalse22-21falsetrue21-)J"},
    {R"J({% for m in ms %}x{% else %}empty{% endfor %})J", R"J({"ms": []})J", R"J(empty)J"},
    {R"J({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})J", R"J({"d": {"b": 1, "a": 2}})J", R"J(b=1;a=2;)J"},
    {R"J({% for k in d %}{{ k }}{% endfor %})J", R"J({"d": {"2": 0, "x": 0, "1": 0}})J", R"J(12x)J"},
    {R"J({% for x in xs if x > 1 %}{{ x }}{% endfor %})J", R"J({"xs": [1, 2, 3]})J", R"J(23)J"},
    {R"J({% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %})J", R"J({"xs": [1, 2, 3]})J",
     R"J(13)J"},
    {R"J({% for x in xs %}{{ x }}{% if x == 2 %}{% break %}{% endif %}{% endfor %})J", R"J({"xs": [1, 2, 3]})J",
     R"J(1)J"},
    {R"J({% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }})J",
     R"J({"xs": [1, 2, 3]})J", R"J(6)J"},
    {R"J({% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{% endfor %}{{ a }})J", R"J({})J", R"J(1)J"},
    {R"J({% set a, b = [1, 2] %}{{ b }}{{ a }})J", R"J({})J", R"J(21)J"},
    {R"J({% set t %}in {{ 'block' }}{% endset %}[{{ t }}])J", R"J({})J", R"J([in block])J"},
    {R"J({{ s[1:3] }}|{{ s[::-1] }}|{{ xs[-1] }}|{{ xs[1:] }}|{{ s[0] }})J", R"J({"s": "héllo", "xs": [1, 2, 3]})J",
     R"J(él|olléh|3|[2, 3]|h)J"},
    {R"J({{ x if x else 'no' }}|{{ 'yes' if not x else 'no' }})J", R"J({"x": ""})J", R"J(no|yes)J"},
    {R"J({{ 'ab' in 'xaby' }}{{ 'z' not in 'ab' }}{{ 2 in [1, 2] }}{{ 'k' in d }}{{ 1 in none_list }})J",
     R"J({"d": {"k": 1}})J", R"J(truetruetruetruefalse)J"},
    {R"J({{ '  x 
'|trim }}|{{ 'ab'|upper }}|{{ 'AB'|lower }}|{{ 'hello world-foo'|title }}|{{ 'hello World'|capitalize }}|{{ 'abc'|length }})J",
     R"J({})J", R"J(x|AB|ab|Hello World-Foo|Hello World|3)J"},
    {R"J({{ xs|length }}|{{ xs|first }}|{{ xs|last }}|{{ xs|reverse|list }}|{{ xs|join(', ') }}|{{ xs|sort }}|{{ xs|unique|list }})J",
     R"J({"xs": [3, 1, 3]})J", R"J(3|3|3|[3, 1, 3]|3, 1, 3|[1, 3, 3]|[3, 1])J"},
    {R"J({{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ s|tojson }})J",
     R"J({"d": {"a": [1, {"b": null}], "c": "é\n\"q\""}, "s": "<tag>\u0001"})J",
     R"J({"a": [1, {"b": null}], "c": "é\n\"q\""}|{
  "a": [
    1,
    {
      "b": null
    }
  ],
  "c": "é\n\"q\""
}|"<tag>\u0001")J"},
    {R"J({{ d|tojson(sort_keys=true, separators=(',', ':')) }}|{{ 'é'|tojson(ensure_ascii=true) }})J",
     R"J({"d": {"b": 1, "a": 2}})J", R"J({"a":2,"b":1}|"\u00e9")J"},
    {R"J({{ u|default('dflt') }}|{{ ''|default('dflt') }}|{{ ''|default('dflt', true) }}|{{ n|default('x') }})J",
     R"J({"n": null})J", R"J(dflt||dflt|)J"},
    {R"J({{ users|selectattr('active')|map(attribute='name')|join(',') }}|{{ users|rejectattr('active')|map(attribute='name')|list }}|{{ users|selectattr('name', 'equalto', 'b')|length }})J",
     R"J({"users": [{"name": "a", "active": true}, {"name": "b", "active": false}, {"name": "c", "active": true}]})J",
     R"J(a,c|["b"]|1)J"},
    {R"J({{ '42'|int + 1 }}|{{ '3.5'|float }}|{{ 'x'|int }}|{{ 3.7|int }}|{{ 5|string ~ 'x' }}|{{ -3|abs }})J",
     R"J({})J", R"J(43|3.5|0|3|5x|3)J"},
    {R"J({{ s.startswith('ab') }}{{ s.endswith(('x', 'cd')) }}|{{ s.split('b') }}|{{ '  a  b '.split() }}|{{ s.replace('b', 'B') }}|{{ s.upper() }}|{{ '
 x 
'.strip('
') }}|{{ 'a,b,c'.split(',', 1) }})J",
     R"J({"s": "abcd"})J", R"J(truetrue|["a", "cd"]|["a", "b"]|aBcd|ABCD|x|["a", "b,c"])J"},
    {R"J({{ d.get('a') }}|{{ d.get('z', 'dflt') }}|{{ d.keys()|list }}|{{ d.values()|list }}|{{ d|items|list }}|{{ d['a'] }}{{ d.a }})J",
     R"J({"d": {"a": 1, "b": 2}})J", R"J(1|dflt|["a", "b"]|[1, 2]|[["a", 1], ["b", 2]]|11)J"},
    {R"J({% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }})J",
     R"J({})J", R"J(Hi A! Hi B?)J"},
    {R"J({% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }})J", R"J({})J",
     R"J(321)J"},
    {R"J({% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %})J", R"J({})J",
     R"J(<inner>)J"},
    {R"J({% filter upper %}shout {{ 'this' }}{% endfilter %})J", R"J({})J", R"J(SHOUT THIS)J"},
    {R"J(  {%- if true %}
  A
  {% endif %}
B {{- ' C ' -}} D
{# comment #}
E)J",
     R"J({})J",
     R"J(  A
B C D
E)J"},
    {R"J(line
  {% if true %}
  kept
  {% endif %}
end
)J",
     R"J({})J",
     R"J(line
  kept
end)J"},
    {R"J({{ x is string }}{{ x is mapping }}{{ d is mapping }}{{ xs is iterable }}{{ 3 is number }}{{ 3 is integer }}{{ 3.5 is integer }}{{ none is none }}{{ true is boolean }}{{ 4 is even }}{{ 3 is odd }}{{ f is callable }})J",
     R"J({"x": "s", "d": {}, "xs": []})J", R"J(truefalsetruetruetruetruefalsetruetruetruetruefalse)J"},
    {R"J({{ 1 == 1.0 }}{{ '1' == 1 }}{{ none == undefined_thing }}{{ [1] == [1] }}{{ 'a' != 'b' }}{{ true == 1 }})J",
     R"J({})J", R"J(truetruetruefalsetruetrue)J"},
    {R"J({{ range(3)|list }}|{{ range(1, 7, 2)|join('-') }}|{{ range(3, 0, -1)|list }})J", R"J({})J",
     R"J([0, 1, 2]|1-3-5|[3, 2, 1])J"},
    {R"J({{ 'x' + 1 }}|{{ [1] + [2] }}|{{ 0.1 + 0.2 }}|{{ 1e21 }}|{{ 10 / 4 }}|{{ 1 / 3 }})J", R"J({"n": 1e+21})J",
     std::nullopt},
    {R"J({{ n }}|{{ m }}|{{ k }}|{{ 1 / 3 }}|{{ 2 ** -1 }})J", R"J({"n": 1e+21, "m": 1.5e-07, "k": 123456789012})J",
     R"J(1e+21|1.5e-7|123456789012|0.3333333333333333|0.5)J"},
    {R"J({{ messages[0].content }}{{ messages|length }})J", R"J({"messages": [{"role": "user", "content": "hi"}]})J",
     R"J(hi1)J"},
    {R"J({{ 'a' 'b' }}|{{ "it's" }}|{{ 'tab\there' }}|{{ '\u00e9\x41' }})J", R"J({})J", R"J(ab|it's|tab	here|éA)J"},
    {R"J({{ {'a': 1}.a }}|{{ (1, 2)|list|length }}|{{ [1, 2, 3][1] }}|{{ 'x' + 1 }}|{{ [1] + [2] }}|{{ 0.1 + 0.2 }})J",
     R"J({})J", R"J(1|2|2|x1|[1, 2]|0.30000000000000004)J"},
    {R"J({% set x = 5 %}{{ x > 3 and x < 10 }}{{ not x > 3 }}{{ x > 3 or fail }})J", R"J({})J", R"J(truefalsetrue)J"},
    {R"J({{ 'hello'|indent(2, true) }}|{{ 'a
b

c'|indent }})J",
     R"J({})J",
     R"J(  hello|a
    b

    c)J"},
    {R"J({{ xs|sort(attribute='n', reverse=true)|map(attribute='n')|list }}|{{ d|dictsort }})J",
     R"J({"xs": [{"n": 1}, {"n": 3}, {"n": 2}], "d": {"b": 1, "a": 2}})J", R"J([3, 2, 1]|[["a", 2], ["b", 1]])J"},
    {R"J({{ (1, 2) }})J", R"J({})J", std::nullopt},
};

TEST(JinjaInterpreter, MatchesReferenceOnHandWrittenTemplates) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.source);
    auto result = render_chat(c.source, input_from(c.variables));
    if (c.expected) {
      ASSERT_TRUE(result.has_value()) << result.error().message;
      EXPECT_EQ(*result, *c.expected);
    } else {
      EXPECT_FALSE(result.has_value()) << "rendered: " << *result;
    }
  }
}

}  // namespace
}  // namespace sy::chat
