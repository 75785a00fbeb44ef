#include "tokenizer/chat/jinja_eval.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <new>
#include <optional>

#include "tokenizer/chat/jinja_lexer.h"
#include "tokenizer/chat/js_text.h"

namespace sy::chat {
namespace {

EnvPtr child_of(const EnvPtr& parent) {
  auto env = std::make_shared<Environment>();
  env->parent = parent;
  return env;
}

[[noreturn]] void raise(std::string message) { throw TemplateError{std::move(message)}; }

// Work units of one loop iteration: it builds the `loop` object (nine entries) besides evaluating its body.
constexpr uint64_t kLoopIterationCost = 10;

// True when `name` is read anywhere in the nodes (macros see `varargs` / `kwargs` only if they use them).
bool reads_identifier(const Node* node, std::string_view name) {
  if (!node) return false;
  if (node->kind == NodeKind::kIdentifier && node->text == name) return true;
  if (reads_identifier(node->a.get(), name) || reads_identifier(node->b.get(), name) ||
      reads_identifier(node->c.get(), name))
    return true;
  for (const NodeList* list : {&node->args, &node->body, &node->alternate})
    for (const auto& n : *list)
      if (reads_identifier(n.get(), name)) return true;
  return false;
}

bool body_reads(const NodeList& body, std::string_view name) {
  for (const auto& n : body)
    if (reads_identifier(n.get(), name)) return true;
  return false;
}

const std::string& param_name(const Node& param) { return param.text; }

// Array.prototype.at: NaN counts as 0, fractions truncate, negatives count from the end.
std::optional<size_t> at_index(double index, size_t size) {
  double rel = std::isnan(index) ? 0 : std::trunc(index);
  const auto n = static_cast<double>(size);
  if (rel < 0) rel += n;
  if (!(rel >= 0 && rel < n)) return std::nullopt;
  return static_cast<size_t>(rel);
}

}  // namespace

void Interpreter::charge(uint64_t units) {
  work_ += units;
  if (work_ > limits_.max_work)
    raise(fmt::format("template exceeded its work budget ({} steps); it may loop without end", limits_.max_work));
}

void Interpreter::check_string_size(size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    raise(
        fmt::format("template built a string of {} bytes, more than the limit of {}", bytes, limits_.max_output_bytes));
}

void Interpreter::check_items(size_t items) const {
  if (items > limits_.max_items)
    raise(fmt::format("template built a list of {} items, more than the limit of {}", items, limits_.max_items));
}

void Interpreter::track_namespace(const std::shared_ptr<ObjectData>& ns) { namespaces_.push_back(ns); }

Interpreter::~Interpreter() {
  // A namespace can hold itself (`set ns.me = ns`); emptying the survivors breaks such reference cycles.
  for (const auto& weak : namespaces_)
    if (auto ns = weak.lock()) ns->clear();
}

Result<std::string> Interpreter::render(const NodeList& program, const EnvPtr& globals) {
  try {
    std::string out = render_block(program, globals);
    if (flow_ != Flow::kNormal) raise("'break' or 'continue' outside a loop");
    return out;
  } catch (const TemplateError& e) {
    if (e.located)
      return fail(ErrorCode::kInvalidInput, "chat template {}: {}", describe_position(source_, e.offset), e.message);
    return fail(ErrorCode::kInvalidInput, "chat template: {}", e.message);
  } catch (const std::bad_alloc&) {
    return fail(ErrorCode::kOutOfRange, "chat template: out of memory while rendering");
  }
}

std::string Interpreter::render_block(const NodeList& statements, const EnvPtr& env) {
  std::string out;
  for (const auto& statement : statements) {
    const Value v = evaluate(*statement, env);
    if (!v.is(ValueKind::kNull) && !v.is(ValueKind::kUndefined)) {
      if (v.is(ValueKind::kString)) {
        out += *v.str;
      } else {
        out += to_output_string(v, limits_.max_output_bytes);
      }
      check_string_size(out.size());
    }
    if (flow_ != Flow::kNormal) break;
  }
  charge(out.size());
  return out;
}

Value Interpreter::evaluate(const Node& node, const EnvPtr& env) {
  charge(1);
  // Macro recursion multiplies the syntax tree's depth; this bounds the C++ stack whatever the template.
  if (eval_depth_ >= kMaxEvalDepth) raise(fmt::format("evaluation nested deeper than {} levels", kMaxEvalDepth));
  struct Unwind {
    int& depth;
    ~Unwind() { --depth; }
  } unwind{++eval_depth_};
  try {
    return evaluate_node(node, env);
  } catch (TemplateError& e) {
    if (!e.located) {
      e.offset = node.offset;
      e.located = true;
    }
    throw;
  }
}

Value Interpreter::call_value(const Value& fn, CallArgs& args, const EnvPtr& env) {
  if (!fn.is(ValueKind::kFunction)) raise(fmt::format("cannot call a value of type {}", kind_name(fn.kind)));
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    raise(fmt::format("calls nested deeper than {} (runaway recursion?)", limits_.max_call_depth));
  }
  struct Unwind {
    int& depth;
    ~Unwind() { --depth; }
  } unwind{call_depth_};
  return fn.function->call(*this, args, env);
}

CallArgs Interpreter::evaluate_arguments(const NodeList& args, const EnvPtr& env) {
  CallArgs out;
  // Positional values (with *spread) are evaluated before keyword values, like Python.
  for (const auto& arg : args) {
    if (arg->kind == NodeKind::kSpread) {
      const Value v = evaluate(*arg->a, env);
      if (!v.is_array()) raise(fmt::format("cannot unpack a {} with '*'", kind_name(v.kind)));
      for (const auto& item : *v.array) out.positional.push_back(item);
    } else if (arg->kind != NodeKind::kKeywordArg && arg->kind != NodeKind::kKeywordSpread) {
      out.positional.push_back(evaluate(*arg, env));
    }
  }
  auto add_keyword = [&](const std::string& key, Value v) {
    if (out.keyword(key)) raise(fmt::format("keyword argument '{}' given twice", key));
    out.keywords.emplace_back(key, std::move(v));
  };
  for (const auto& arg : args) {
    if (arg->kind == NodeKind::kKeywordArg) {
      add_keyword(arg->text, evaluate(*arg->a, env));
    } else if (arg->kind == NodeKind::kKeywordSpread) {
      const Value v = evaluate(*arg->a, env);
      if (!v.is_mapping()) raise(fmt::format("argument after '**' must be a mapping, not {}", kind_name(v.kind)));
      for (const auto& [k, item] : v.object->entries) add_keyword(k, item);
    }
  }
  return out;
}

Value Interpreter::evaluate_node(const Node& node, const EnvPtr& env) {
  switch (node.kind) {
    case NodeKind::kText: return Value::string(node.text);
    case NodeKind::kComment: return Value::null();
    case NodeKind::kIf: {
      const bool test = truthy(evaluate(*node.a, env));
      return Value::string(render_block(test ? node.body : node.alternate, env));
    }
    case NodeKind::kFor: return evaluate_for(node, env);
    case NodeKind::kSet: evaluate_set(node, env); return Value::null();
    case NodeKind::kMacro: return define_macro(node, env);
    case NodeKind::kCallBlock: return evaluate_call_block(node, env);
    case NodeKind::kFilterBlock: {
      const Value body = Value::string(render_block(node.body, env));
      return apply_filter(*this, body, *node.a, env);
    }
    case NodeKind::kBreak: flow_ = Flow::kBreak; return Value::null();
    case NodeKind::kContinue: flow_ = Flow::kContinue; return Value::null();
    case NodeKind::kInteger: return Value::integer(node.number);
    case NodeKind::kFloat: return Value::floating(node.number);
    case NodeKind::kString: return Value::string(node.text);
    case NodeKind::kArray:
    case NodeKind::kTuple: {
      ArrayData items;
      for (const auto& item : node.args) items.push_back(evaluate(*item, env));
      return Value::make_array(std::move(items), node.kind == NodeKind::kArray ? ValueKind::kArray : ValueKind::kTuple);
    }
    case NodeKind::kObject: {
      Value obj = Value::make_object();
      for (size_t i = 0; i < node.args.size(); ++i) {
        const Value key = evaluate(*node.args[i], env);
        if (!key.is(ValueKind::kString)) raise(fmt::format("dict keys must be strings, not {}", kind_name(key.kind)));
        obj.object->set(*key.str, evaluate(*node.body[i], env));
      }
      return obj;
    }
    case NodeKind::kIdentifier: {
      const Value* v = env->lookup(node.text);
      return v ? *v : Value::undefined();
    }
    case NodeKind::kCall: {
      CallArgs args = evaluate_arguments(node.args, env);
      const Value fn = evaluate(*node.a, env);
      if (!fn.is(ValueKind::kFunction)) {
        std::string what = "expression";
        if (node.a->kind == NodeKind::kIdentifier) what = fmt::format("'{}'", node.a->text);
        if (node.a->kind == NodeKind::kMember && !node.a->computed && node.a->b->kind == NodeKind::kIdentifier)
          what = fmt::format("method '{}'", node.a->b->text);
        raise(fmt::format("{} is {}, not a function", what, kind_name(fn.kind)));
      }
      return call_value(fn, args, env);
    }
    case NodeKind::kMember: return evaluate_member(node, env);
    case NodeKind::kUnary: {
      const Value v = evaluate(*node.a, env);
      if (node.text == "not") return Value::from_bool(!truthy(v));
      const double sign = node.text == "-" ? -1 : 1;
      if (v.is_number()) {
        Value r = v;
        r.number = sign * v.number;
        return r;
      }
      if (v.is(ValueKind::kBool)) return Value::integer(sign * (v.boolean ? 1 : 0));
      raise(fmt::format("unary '{}' cannot apply to {}", node.text, kind_name(v.kind)));
    }
    case NodeKind::kBinary: return evaluate_binary(node, env);
    case NodeKind::kFilter: return apply_filter(*this, evaluate(*node.a, env), *node.b, env);
    case NodeKind::kTest: {
      if (!has_test(node.text)) raise(fmt::format("unknown test '{}'", node.text));
      const bool result = apply_test(node.text, evaluate(*node.a, env), nullptr);
      return Value::from_bool(node.negate ? !result : result);
    }
    case NodeKind::kSelect: {
      if (!truthy(evaluate(*node.b, env))) return Value::undefined();
      return evaluate(*node.a, env);
    }
    case NodeKind::kTernary: return truthy(evaluate(*node.a, env)) ? evaluate(*node.b, env) : evaluate(*node.c, env);
    case NodeKind::kSlice: raise("a slice is only valid inside '[...]'");
    case NodeKind::kKeywordArg: raise(fmt::format("keyword argument '{}' outside a call", node.text));
    case NodeKind::kSpread:
    case NodeKind::kKeywordSpread: raise("argument unpacking outside a call");
  }
  raise("unknown syntax node");
}

Value Interpreter::evaluate_binary(const Node& node, const EnvPtr& env) {
  const std::string& op = node.text;
  Value left = evaluate(*node.a, env);
  if (op == "and") return truthy(left) ? evaluate(*node.b, env) : left;
  if (op == "or") return truthy(left) ? left : evaluate(*node.b, env);
  const Value right = evaluate(*node.b, env);
  if (op == "==") return Value::from_bool(loose_equal(left, right));
  if (op == "!=") return Value::from_bool(!loose_equal(left, right));

  if (left.is(ValueKind::kUndefined) || right.is(ValueKind::kUndefined)) {
    if (right.is(ValueKind::kUndefined) && (op == "in" || op == "not in")) return Value::from_bool(op == "not in");
    raise(fmt::format("cannot apply '{}' to an undefined value", op));
  }
  if (left.is(ValueKind::kNull) || right.is(ValueKind::kNull)) raise(fmt::format("cannot apply '{}' to none", op));
  auto make_string = [&](std::string s) {
    check_string_size(s.size());
    charge(s.size());
    return Value::string(std::move(s));
  };
  if (op == "~") {
    if (left.is(ValueKind::kFunction) || right.is(ValueKind::kFunction)) raise("cannot concatenate a function");
    return make_string(raw_to_string(left, limits_.max_output_bytes) + raw_to_string(right, limits_.max_output_bytes));
  }
  auto numeric_like = [](const Value& v) { return v.is_number() || v.is(ValueKind::kBool); };
  auto numeric = [](const Value& v) { return v.is(ValueKind::kBool) ? (v.boolean ? 1.0 : 0.0) : v.number; };
  if (op == "**" && numeric_like(left) && numeric_like(right)) {
    const double a = numeric(left), b = numeric(right);
    if (a == 0 && b < 0) raise("0.0 cannot be raised to a negative power");
    const double r = std::pow(a, b);
    if (!std::isfinite(r)) raise("exponentiation result is not a finite real number");
    const bool is_float = left.is(ValueKind::kFloat) || right.is(ValueKind::kFloat) || b < 0;
    return is_float ? Value::floating(r) : Value::integer(r);
  }
  if (left.is_number() && right.is_number()) {
    const double a = left.number, b = right.number;
    const bool is_float = left.is(ValueKind::kFloat) || right.is(ValueKind::kFloat);
    auto number = [&](double r) { return is_float ? Value::floating(r) : Value::integer(r); };
    if (op == "+") return number(a + b);
    if (op == "-") return number(a - b);
    if (op == "*") return number(a * b);
    if (op == "/") return Value::floating(a / b);
    if (op == "//") return number(std::floor(a / b));
    if (op == "%") return number(std::fmod(a, b));
    if (op == "<") return Value::from_bool(a < b);
    if (op == ">") return Value::from_bool(a > b);
    if (op == "<=") return Value::from_bool(a <= b);
    if (op == ">=") return Value::from_bool(a >= b);
  } else if (left.is_array() && right.is_array()) {
    if (op == "+") {
      check_items(left.array->size() + right.array->size());
      charge(left.array->size() + right.array->size());
      ArrayData items = *left.array;
      items.insert(items.end(), right.array->begin(), right.array->end());
      return Value::make_array(std::move(items));
    }
  } else if (right.is_array()) {
    if (op == "in" || op == "not in") {
      bool member = false;
      for (const auto& item : *right.array)
        if (strict_equal(item, left)) {
          member = true;
          break;
        }
      return Value::from_bool(op == "in" ? member : !member);
    }
  }
  if ((left.is(ValueKind::kString) || right.is(ValueKind::kString)) && op == "+") {
    if (left.is(ValueKind::kFunction) || right.is(ValueKind::kFunction)) raise("cannot concatenate a function");
    return make_string(raw_to_string(left, limits_.max_output_bytes) + raw_to_string(right, limits_.max_output_bytes));
  }
  if (left.is(ValueKind::kString) && right.is(ValueKind::kString) && (op == "in" || op == "not in")) {
    const bool found = right.str->find(*left.str) != std::string::npos;
    return Value::from_bool(op == "in" ? found : !found);
  }
  if (left.is(ValueKind::kString) && right.is_mapping() && (op == "in" || op == "not in")) {
    const bool found = right.object->find(*left.str) != nullptr;
    return Value::from_bool(op == "in" ? found : !found);
  }
  raise(
      fmt::format("operator '{}' is not supported between {} and {}", op, kind_name(left.kind), kind_name(right.kind)));
}

Value Interpreter::evaluate_slice(const Value& object, const Node& slice, const EnvPtr& env) {
  if (!object.is_array() && !object.is(ValueKind::kString))
    raise(fmt::format("cannot slice a {}", kind_name(object.kind)));
  auto part = [&](const NodePtr& n, const char* what) -> std::optional<double> {
    if (!n) return std::nullopt;
    const Value v = evaluate(*n, env);
    if (v.is(ValueKind::kUndefined)) return std::nullopt;
    if (!v.is(ValueKind::kInteger)) raise(fmt::format("slice {} must be an integer, not {}", what, kind_name(v.kind)));
    return v.number;
  };
  const auto start_v = part(slice.a, "start"), stop_v = part(slice.b, "stop"), step_v = part(slice.c, "step");
  // Strings slice by code point (JS Array.from(string)); arrays by item.
  std::vector<std::string_view> chars;
  if (object.is(ValueKind::kString)) {
    const std::string& s = *object.str;
    for (size_t i = 0; i < s.size();) {
      size_t len = 0;
      decode_utf8(s, i, len);
      chars.push_back(std::string_view(s).substr(i, len));
      i += len;
    }
  }
  const double n =
      object.is(ValueKind::kString) ? static_cast<double>(chars.size()) : static_cast<double>(object.array->size());
  const double step = step_v.value_or(1);
  if (step == 0) raise("slice step cannot be zero");
  if (std::isnan(step)) return object.is(ValueKind::kString) ? Value::string("") : Value::make_array({});
  double start, stop;
  if (step > 0) {
    start = start_v.value_or(0);
    start = start < 0 ? std::max(n + start, 0.0) : std::min(start, n);
    stop = stop_v.value_or(n);
    stop = stop < 0 ? std::max(n + stop, 0.0) : std::min(stop, n);
  } else {
    start = start_v.value_or(n - 1);
    start = start < 0 ? std::max(n + start, -1.0) : std::min(start, n - 1);
    stop = stop_v.value_or(-1);
    stop = stop < -1 ? std::max(n + stop, -1.0) : std::min(stop, n - 1);
  }
  const double dir = step > 0 ? 1 : -1;
  if (object.is(ValueKind::kString)) {
    std::string out;
    for (double i = start; dir * i < dir * stop; i += step) out += chars[static_cast<size_t>(i)];
    charge(out.size());
    return Value::string(std::move(out));
  }
  ArrayData items;
  for (double i = start; dir * i < dir * stop; i += step) items.push_back((*object.array)[static_cast<size_t>(i)]);
  charge(items.size());
  return Value::make_array(std::move(items));
}

Value Interpreter::evaluate_member(const Node& node, const EnvPtr& env) {
  const Value object = evaluate(*node.a, env);
  Value property;
  if (node.computed) {
    if (node.b->kind == NodeKind::kSlice) return evaluate_slice(object, *node.b, env);
    property = evaluate(*node.b, env);
  } else if (node.b->kind == NodeKind::kInteger) {
    property = Value::integer(node.b->number);
  } else {
    property = Value::string(node.b->text);
  }
  if (object.has_attributes()) {
    if (!property.is(ValueKind::kString))
      raise(fmt::format("a {} key must be a string, not {}", kind_name(object.kind), kind_name(property.kind)));
    if (const Value* v = object.object->find(*property.str)) return *v;
    return object.is_mapping() ? builtin_member(*this, object, *property.str) : Value::undefined();
  }
  if (object.is_array() || object.is(ValueKind::kString)) {
    if (property.is(ValueKind::kInteger)) {
      if (object.is_array()) {
        const auto i = at_index(property.number, object.array->size());
        return i ? (*object.array)[*i] : Value::undefined();
      }
      std::vector<std::string_view> chars;
      const std::string& s = *object.str;
      for (size_t i = 0; i < s.size();) {
        size_t len = 0;
        decode_utf8(s, i, len);
        chars.push_back(std::string_view(s).substr(i, len));
        i += len;
      }
      const auto i = at_index(property.number, chars.size());
      return i ? Value::string(std::string(chars[*i])) : Value::undefined();
    }
    if (property.is(ValueKind::kString)) return builtin_member(*this, object, *property.str);
    raise(fmt::format("a {} index must be an integer, not {}", kind_name(object.kind), kind_name(property.kind)));
  }
  if (!property.is(ValueKind::kString))
    raise(fmt::format("cannot index a {} with a {}", kind_name(object.kind), kind_name(property.kind)));
  return builtin_member(*this, object, *property.str);
}

Value Interpreter::evaluate_for(const Node& node, const EnvPtr& env) {
  EnvPtr scope = child_of(env);
  const Node* test = nullptr;
  Value iterable;
  if (node.b->kind == NodeKind::kSelect) {
    iterable = evaluate(*node.b->a, scope);
    test = node.b->b.get();
  } else {
    iterable = evaluate(*node.b, scope);
  }
  if (iterable.is_mapping()) {
    ArrayData keys;
    for (const auto& [k, v] : iterable.object->entries) keys.push_back(Value::string(k));
    iterable = Value::make_array(std::move(keys));
  }
  if (!iterable.is_array()) raise(fmt::format("cannot loop over a {}", kind_name(iterable.kind)));

  auto bind = [&](const EnvPtr& target, const Value& current) {
    if (node.a->kind == NodeKind::kIdentifier) {
      target->variables[node.a->text] = current;
      return;
    }
    if (!current.is(ValueKind::kArray))
      raise(fmt::format("cannot unpack a {} into loop variables", kind_name(current.kind)));
    if (current.array->size() != node.a->args.size())
      raise(fmt::format("too {} items to unpack in the loop",
                        node.a->args.size() > current.array->size() ? "few" : "many"));
    for (size_t j = 0; j < node.a->args.size(); ++j) {
      const Node& name = *node.a->args[j];
      if (name.kind != NodeKind::kIdentifier) raise("loop variables must be names");
      target->variables[name.text] = (*current.array)[j];
    }
  };

  ArrayData items;
  for (const auto& current : *iterable.array) {
    charge(1);
    if (test) {
      EnvPtr loop_scope = child_of(scope);
      bind(loop_scope, current);
      if (!truthy(evaluate(*test, loop_scope))) continue;
    }
    items.push_back(current);
  }

  std::string out;
  bool no_iteration = true;
  const auto n = static_cast<double>(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    charge(kLoopIterationCost);
    Value loop = Value::make_object();
    ObjectData& l = *loop.object;
    const auto di = static_cast<double>(i);
    l.set("index", Value::integer(di + 1));
    l.set("index0", Value::integer(di));
    l.set("revindex", Value::integer(n - di));
    l.set("revindex0", Value::integer(n - di - 1));
    l.set("first", Value::from_bool(i == 0));
    l.set("last", Value::from_bool(i + 1 == items.size()));
    l.set("length", Value::integer(n));
    l.set("previtem", i > 0 ? items[i - 1] : Value::undefined());
    l.set("nextitem", i + 1 < items.size() ? items[i + 1] : Value::undefined());
    scope->variables["loop"] = loop;
    bind(scope, items[i]);
    std::string body = render_block(node.body, scope);
    // Like the reference, an iteration cut short by break/continue contributes nothing.
    if (flow_ == Flow::kContinue) {
      flow_ = Flow::kNormal;
      continue;
    }
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    out += body;
    check_string_size(out.size());
    no_iteration = false;
  }
  if (no_iteration) out += render_block(node.alternate, scope);
  return Value::string(std::move(out));
}

void Interpreter::evaluate_set(const Node& node, const EnvPtr& env) {
  const Value rhs = node.b ? evaluate(*node.b, env) : Value::string(render_block(node.body, env));
  const Node& target = *node.a;
  if (target.kind == NodeKind::kIdentifier) {
    env->variables[target.text] = rhs;
  } else if (target.kind == NodeKind::kTuple) {
    if (!rhs.is_array()) raise(fmt::format("cannot unpack a {} in set", kind_name(rhs.kind)));
    if (rhs.array->size() != target.args.size())
      raise(fmt::format("too {} items to unpack in set", target.args.size() > rhs.array->size() ? "few" : "many"));
    for (size_t i = 0; i < target.args.size(); ++i) {
      if (target.args[i]->kind != NodeKind::kIdentifier) raise("can only unpack into names in set");
      env->variables[target.args[i]->text] = (*rhs.array)[i];
    }
  } else if (target.kind == NodeKind::kMember) {
    const Value object = evaluate(*target.a, env);
    if (!object.is(ValueKind::kNamespace)) raise("can only assign attributes of a namespace()");
    if (target.b->kind != NodeKind::kIdentifier || target.computed) raise("namespace attributes are set by name");
    object.object->set(target.b->text, rhs);
  } else {
    raise("invalid target of set");
  }
}

void Interpreter::bind_macro_arguments(const MacroSignature& sig, CallArgs& args, const EnvPtr& scope) {
  auto keywords = args.keywords;
  std::vector<const Node*> pending_defaults;
  const NodeList& params = *sig.params;
  for (size_t i = 0; i < params.size(); ++i) {
    const Node& p = *params[i];
    const std::string& name = param_name(p);
    Value value;
    bool given = false;
    if (i < args.positional.size()) {
      value = args.positional[i];
      given = true;
    } else {
      for (auto it = keywords.begin(); it != keywords.end(); ++it)
        if (it->first == name) {
          value = it->second;
          keywords.erase(it);
          given = true;
          break;
        }
    }
    if (!given && p.kind == NodeKind::kKeywordArg) pending_defaults.push_back(&p);
    scope->variables[name] = given ? value : Value::undefined();
  }
  if (sig.wants_kwargs) {
    Value kwargs = Value::make_object();
    for (auto& [k, v] : keywords) kwargs.object->set(k, v);
    scope->variables["kwargs"] = kwargs;
  } else if (!keywords.empty()) {
    raise(fmt::format("macro '{}' takes no keyword argument '{}'", sig.name, keywords.front().first));
  }
  if (sig.wants_varargs) {
    ArrayData rest;
    for (size_t i = params.size(); i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    scope->variables["varargs"] = Value::make_array(std::move(rest));
  } else if (args.positional.size() > params.size()) {
    raise(fmt::format("macro '{}' takes at most {} argument(s), {} given", sig.name, params.size(),
                      args.positional.size()));
  }
  for (const Node* p : pending_defaults) scope->variables[p->text] = evaluate(*p->a, scope);
}

MacroSignature Interpreter::signature_of(const std::string& name, const NodeList& params, const NodeList& body) {
  MacroSignature sig{name, &params, false, false};
  bool declares_kwargs = false, declares_varargs = false;
  for (const auto& p : params) {
    declares_kwargs |= param_name(*p) == "kwargs";
    declares_varargs |= param_name(*p) == "varargs";
  }
  sig.wants_kwargs = !declares_kwargs && body_reads(body, "kwargs");
  sig.wants_varargs = !declares_varargs && body_reads(body, "varargs");
  return sig;
}

Value Interpreter::define_macro(const Node& node, const EnvPtr& env) {
  const Node* macro = &node;
  const MacroSignature sig = signature_of(node.text, node.args, node.body);
  Value fn;
  fn.kind = ValueKind::kFunction;
  fn.function = std::make_shared<FunctionData>();
  fn.function->name = node.text;
  fn.function->call = [macro, sig](Interpreter& in, CallArgs& args, const EnvPtr& caller) {
    EnvPtr scope = child_of(caller);
    in.bind_macro_arguments(sig, args, scope);
    return Value::string(in.render_block(macro->body, scope));
  };
  env->variables[node.text] = fn;
  return Value::null();
}

Value Interpreter::evaluate_call_block(const Node& node, const EnvPtr& env) {
  const Node* block = &node;
  Value caller_fn;
  caller_fn.kind = ValueKind::kFunction;
  caller_fn.function = std::make_shared<FunctionData>();
  caller_fn.function->name = "caller";
  // A weak reference: the caller may be stored in a namespace of that very scope, and a strong one would
  // make a cycle that is never freed.
  std::weak_ptr<Environment> definition_env = env;
  const MacroSignature sig = signature_of("caller", node.args, node.body);
  caller_fn.function->call = [block, sig, definition_env](Interpreter& in, CallArgs& args, const EnvPtr&) {
    EnvPtr parent = definition_env.lock();
    if (!parent) raise("caller() used after its call block ended");
    EnvPtr scope = child_of(parent);
    in.bind_macro_arguments(sig, args, scope);
    return Value::string(in.render_block(block->body, scope));
  };
  const Node& call = *node.a;
  CallArgs args = evaluate_arguments(call.args, env);
  const Value fn = evaluate(*call.a, env);
  EnvPtr with_caller = child_of(env);
  with_caller->variables["caller"] = caller_fn;
  return call_value(fn, args, with_caller);
}

}  // namespace sy::chat
