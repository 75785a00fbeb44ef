// Tree-walking interpreter for parsed chat templates, following @huggingface/jinja's runtime semantics
// (scoping, loop variables, macro calls, JS-flavoured equality and printing). Rendering is bounded: a work
// budget (nodes evaluated plus bytes and items created), a call-depth limit and an output-size limit keep
// hostile templates from hanging or exhausting memory.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "tokenizer/chat/jinja_ast.h"
#include "tokenizer/chat/jinja_value.h"

namespace sy::chat {

struct RenderLimits {
  size_t max_output_bytes = size_t{8} << 20;  // also the largest string a template may build
  size_t max_items = size_t{1} << 20;         // largest list a template may build (range(), `+`)
  uint64_t max_work = uint64_t{1} << 26;      // nodes evaluated + bytes and items created (~seconds)
  int max_call_depth = 100;                   // nested macro calls
};

// One variable scope; `for` bodies and macro calls get a child scope, `if` bodies do not.
struct Environment {
  std::unordered_map<std::string, Value> variables;
  std::shared_ptr<Environment> parent;

  const Value* lookup(const std::string& name) const {
    for (const Environment* e = this; e; e = e->parent.get()) {
      auto it = e->variables.find(name);
      if (it != e->variables.end()) return &it->second;
    }
    return nullptr;
  }
};
using EnvPtr = std::shared_ptr<Environment>;

// What a macro (or a call block's caller) binds: its parameters and whether its body reads the special
// `kwargs` / `varargs` collections (only then are extra arguments accepted).
struct MacroSignature {
  std::string name;
  const NodeList* params = nullptr;  // owned by the template's tree, which outlives rendering
  bool wants_kwargs = false;
  bool wants_varargs = false;
};

class Interpreter {
 public:
  Interpreter(std::string_view source, RenderLimits limits) : source_(source), limits_(limits) {}
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // namespace() objects are the only mutable values; the interpreter empties them when done.
  void track_namespace(const std::shared_ptr<ObjectData>& ns);

  // Renders `program` with `globals` (which must already hold the builtins: see add_builtin_globals).
  Result<std::string> render(const NodeList& program, const EnvPtr& globals);

  // Charged by everything that creates data; throws TemplateError when the budget is spent.
  void charge(uint64_t units);
  void check_string_size(size_t bytes) const;
  void check_items(size_t items) const;
  const RenderLimits& limits() const { return limits_; }

  Value evaluate(const Node& node, const EnvPtr& env);
  std::string render_block(const NodeList& statements, const EnvPtr& env);
  Value call_value(const Value& fn, CallArgs& args, const EnvPtr& env);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  std::string_view source_;
  RenderLimits limits_;
  uint64_t work_ = 0;
  int call_depth_ = 0;
  int eval_depth_ = 0;
  static constexpr int kMaxEvalDepth = 1000;  // keeps the C++ stack well under 8 MiB, ASan included
  std::vector<std::weak_ptr<ObjectData>> namespaces_;
  Flow flow_ = Flow::kNormal;  // set by {% break %} / {% continue %}, consumed by the innermost loop

  Value evaluate_node(const Node& node, const EnvPtr& env);
  Value evaluate_binary(const Node& node, const EnvPtr& env);
  Value evaluate_member(const Node& node, const EnvPtr& env);
  Value evaluate_slice(const Value& object, const Node& slice, const EnvPtr& env);
  Value evaluate_for(const Node& node, const EnvPtr& env);
  void evaluate_set(const Node& node, const EnvPtr& env);
  Value define_macro(const Node& node, const EnvPtr& env);
  Value evaluate_call_block(const Node& node, const EnvPtr& env);
  CallArgs evaluate_arguments(const NodeList& args, const EnvPtr& env);
  static MacroSignature signature_of(const std::string& name, const NodeList& params, const NodeList& body);
  void bind_macro_arguments(const MacroSignature& sig, CallArgs& args, const EnvPtr& scope);
};

// Globals every template sees: namespace(), range(), raise_exception(), strftime_now(), true/false/none.
// `now` is the time strftime_now() formats (local time, as the JS engine does).
void add_builtin_globals(Environment& env, std::time_t now);

// Filters, tests and member functions, in jinja_builtins.cpp.
Value apply_filter(Interpreter& in, const Value& operand, const Node& filter, const EnvPtr& env);
bool apply_test(const std::string& name, const Value& operand, const Value* argument);
bool has_test(const std::string& name);
// A member looked up on a value that is not found among its own keys: str.upper, dict.items, list.length…
Value builtin_member(Interpreter& in, const Value& object, const std::string& name);

}  // namespace sy::chat
