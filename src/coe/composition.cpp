#include "coe/composition.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/file_io.h"
#include "runtime/expert_cache_setup.h"

namespace sy::coe {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxFileBytes = size_t{1} << 20;  // a composition is a few lines; refuse anything huge
constexpr size_t kMaxModels = 256;
constexpr size_t kMaxRules = 4096;

// TOML and JSON share one reader: the TOML document is turned into the JSON value it spells.
Json toml_to_json(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    Json out = Json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = toml_to_json(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    Json out = Json::array();
    for (const auto& value : *array) out.push_back(toml_to_json(value));
    return out;
  }
  if (const auto* v = node.as_string()) return v->get();
  if (const auto* v = node.as_integer()) return v->get();
  if (const auto* v = node.as_floating_point()) return v->get();
  if (const auto* v = node.as_boolean()) return v->get();
  // Dates and times have no meaning here: a marker string, so the key's own check names it as the wrong type.
  return Json::object({{"unsupported TOML value", "date or time"}});
}

class Reader {
 public:
  explicit Reader(std::string_view origin) : origin_(origin) {}

  template <typename... Args>
  tl::unexpected<Error> error(fmt::format_string<Args...> format, Args&&... args) const {
    return fail(ErrorCode::kInvalidInput, "{}: {}", origin_, fmt::format(format, std::forward<Args>(args)...));
  }

  // Keys a table may hold: anything else is a typo the user should hear about.
  Status only_keys(const Json& table, std::string_view where, std::initializer_list<std::string_view> keys) const {
    for (const auto& [key, value] : table.items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        return error("unknown key '{}' in {} (known: {})", key, where, fmt::join(keys, ", "));
    return {};
  }

  Result<std::string> string(const Json& table, std::string_view key, std::string_view where, bool required) const {
    const auto it = table.find(std::string(key));
    if (it == table.end()) {
      if (required) return error("{} needs '{}'", where, key);
      return std::string();
    }
    if (!it->is_string()) return error("'{}' in {} must be a string", key, where);
    return it->get<std::string>();
  }

 private:
  std::string origin_;
};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

Result<uint64_t> read_budget(const Reader& r, const Json& doc) {
  const auto it = doc.find("budget");
  if (it == doc.end()) return uint64_t{0};
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return static_cast<uint64_t>(it->get<int64_t>());
  if (!it->is_string()) return r.error("'budget' must be a size such as \"64MiB\" (or a byte count)");
  auto bytes = runtime::parse_byte_size(it->get<std::string>());
  if (!bytes) return r.error("'budget': {}", bytes.error().message);
  return *bytes;
}

Result<RouterSpec> read_router(const Reader& r, const Json& doc, const std::filesystem::path& base_dir) {
  RouterSpec spec;
  const auto it = doc.find("router");
  if (it == doc.end()) return r.error("needs a [router] table (kind = \"rules\", \"embedding\" or \"llm\")");
  const Json& t = *it;
  if (!t.is_object()) return r.error("'router' must be a table");
  if (auto ok = r.only_keys(t, "[router]", {"kind", "rules", "embedder", "classifier", "scorer", "threshold"}); !ok)
    return tl::unexpected(ok.error());
  auto kind = r.string(t, "kind", "[router]", true);
  if (!kind) return tl::unexpected(kind.error());
  if (*kind == "rules") {
    spec.kind = RouterKind::kRules;
  } else if (*kind == "embedding") {
    spec.kind = RouterKind::kEmbedding;
  } else if (*kind == "llm") {
    spec.kind = RouterKind::kLlm;
  } else {
    return r.error("router kind '{}' is not one of rules, embedding, llm", *kind);
  }
  if (const auto th = t.find("threshold"); th != t.end()) {
    if (!th->is_number()) return r.error("'threshold' in [router] must be a number");
    spec.threshold = th->get<double>();
    if (!(spec.threshold >= 0 && spec.threshold <= 1)) return r.error("'threshold' in [router] must be in [0, 1]");
  }
  if (const auto rules = t.find("rules"); rules != t.end()) {
    if (!rules->is_array()) return r.error("'rules' in [router] must be an array of tables");
    if (rules->size() > kMaxRules) return r.error("more than {} rules", kMaxRules);
    for (size_t i = 0; i < rules->size(); ++i) {
      const Json& rule = (*rules)[i];
      const std::string where = fmt::format("router rule {}", i + 1);
      if (!rule.is_object()) return r.error("{} must be a table", where);
      if (auto ok = r.only_keys(rule, where, {"pattern", "category", "model"}); !ok) return tl::unexpected(ok.error());
      RouterRule out;
      auto pattern = r.string(rule, "pattern", where, true);
      auto category = r.string(rule, "category", where, false);
      auto model = r.string(rule, "model", where, false);
      if (!pattern) return tl::unexpected(pattern.error());
      if (!category) return tl::unexpected(category.error());
      if (!model) return tl::unexpected(model.error());
      if (category->empty() == model->empty()) return r.error("{} needs exactly one of 'category' and 'model'", where);
      out.pattern = std::move(*pattern);
      out.category = std::move(*category);
      out.model = std::move(*model);
      spec.rules.push_back(std::move(out));
    }
  }
  auto embedder = r.string(t, "embedder", "[router]", false);
  auto classifier = r.string(t, "classifier", "[router]", false);
  auto scorer = r.string(t, "scorer", "[router]", false);
  if (!embedder) return tl::unexpected(embedder.error());
  if (!classifier) return tl::unexpected(classifier.error());
  if (!scorer) return tl::unexpected(scorer.error());
  spec.embedder = std::move(*embedder);
  spec.scorer = std::move(*scorer);
  if (!classifier->empty()) spec.classifier = base_dir / *classifier;
  switch (spec.kind) {
    case RouterKind::kRules:
      if (spec.rules.empty()) return r.error("a rules router needs at least one [[router.rules]]");
      break;
    case RouterKind::kEmbedding:
      if (spec.embedder.empty() || spec.classifier.empty())
        return r.error(
            "an embedding router needs 'embedder' (a model name or GGUF path) and 'classifier' (the file "
            "`switchyard router train` wrote)");
      break;
    case RouterKind::kLlm:
      if (spec.scorer.empty()) return r.error("an llm router needs 'scorer' (a model name or GGUF path)");
      break;
  }
  return spec;
}

}  // namespace

std::string_view router_kind_name(RouterKind kind) {
  switch (kind) {
    case RouterKind::kRules: return "rules";
    case RouterKind::kEmbedding: return "embedding";
    case RouterKind::kLlm: return "llm";
  }
  return "?";
}

const ModelEntry* Composition::find(std::string_view name) const {
  for (const auto& m : models)
    if (m.name == name) return &m;
  return nullptr;
}

const std::string& Composition::model_for_category(std::string_view category) const {
  const auto it = category_model.find(std::string(category));
  return it == category_model.end() ? default_model : it->second;
}

Result<Composition> parse_composition(std::string_view text, CompositionFormat format,
                                      const std::filesystem::path& base_dir, std::string_view origin) {
  const Reader r(origin);
  Json doc;
  if (format == CompositionFormat::kToml) {
    try {
      const toml::table table = toml::parse(text, std::string_view(origin));
      doc = toml_to_json(table);
    } catch (const toml::parse_error& e) {
      return r.error("line {}, column {}: {}", e.source().begin.line, e.source().begin.column, e.description());
    }
  } else {
    doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return r.error("not valid JSON");
  }
  if (!doc.is_object()) return r.error("must be a table (TOML) or an object (JSON)");
  if (auto ok = r.only_keys(doc, "the top level", {"budget", "default", "models", "router"}); !ok)
    return tl::unexpected(ok.error());

  Composition c;
  auto budget = read_budget(r, doc);
  if (!budget) return tl::unexpected(budget.error());
  c.budget_bytes = *budget;

  const auto models = doc.find("models");
  if (models == doc.end() || !models->is_object() || models->empty())
    return r.error("needs at least one model: [models.NAME] with path = \"FILE.gguf\"");
  if (models->size() > kMaxModels) return r.error("more than {} models", kMaxModels);
  for (const auto& [name, m] : models->items()) {
    const std::string where = fmt::format("[models.{}]", name);
    if (!valid_name(name)) return r.error("model name '{}' must be 1-128 of A-Z a-z 0-9 - _ .", name);
    if (name == "auto") return r.error("'auto' names the composition itself and cannot be a model's name");
    if (!m.is_object()) return r.error("{} must be a table", where);
    if (auto ok = r.only_keys(m, where, {"path", "description", "categories"}); !ok) return tl::unexpected(ok.error());
    ModelEntry entry;
    entry.name = name;
    auto path = r.string(m, "path", where, true);
    auto description = r.string(m, "description", where, false);
    if (!path) return tl::unexpected(path.error());
    if (!description) return tl::unexpected(description.error());
    if (path->empty()) return r.error("'path' in {} is empty", where);
    entry.path = base_dir / *path;
    entry.description = std::move(*description);
    if (const auto cats = m.find("categories"); cats != m.end()) {
      if (!cats->is_array()) return r.error("'categories' in {} must be an array of strings", where);
      for (const auto& cat : *cats) {
        if (!cat.is_string() || !valid_name(cat.get<std::string>()))
          return r.error("'categories' in {} must hold names (1-128 of A-Z a-z 0-9 - _ .)", where);
        const std::string category = cat.get<std::string>();
        if (const auto [it, added] = c.category_model.emplace(category, name); !added)
          return r.error("category '{}' is claimed by both '{}' and '{}'", category, it->second, name);
        entry.categories.push_back(category);
      }
    }
    c.models.push_back(std::move(entry));
  }

  auto def = r.string(doc, "default", "the top level", false);
  if (!def) return tl::unexpected(def.error());
  c.default_model = def->empty() ? c.models.front().name : *def;
  if (c.find(c.default_model) == nullptr) return r.error("default model '{}' is not in [models]", c.default_model);

  auto router = read_router(r, doc, base_dir);
  if (!router) return tl::unexpected(router.error());
  c.router = std::move(*router);
  for (size_t i = 0; i < c.router.rules.size(); ++i)
    if (const auto& rule = c.router.rules[i]; !rule.model.empty() && c.find(rule.model) == nullptr)
      return r.error("router rule {} names model '{}', which is not in [models]", i + 1, rule.model);
  // A router model that is not one of the composition's is a file, relative to the composition like the others.
  for (std::string* name : {&c.router.embedder, &c.router.scorer}) {
    if (name->empty() || c.find(*name) != nullptr) continue;
    if (!name->ends_with(".gguf"))
      return r.error("router model '{}' is neither a model of the composition nor a .gguf path", *name);
    *name = (base_dir / *name).string();
  }
  return c;
}

Result<Composition> load_composition(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  CompositionFormat format;
  if (ext == ".toml") {
    format = CompositionFormat::kToml;
  } else if (ext == ".json") {
    format = CompositionFormat::kJson;
  } else {
    return fail(ErrorCode::kInvalidInput, "{}: a composition file ends in .toml or .json", path.string());
  }
  auto text = read_file(path, "composition file", kMaxFileBytes);
  if (!text) return tl::unexpected(text.error());
  auto c = parse_composition(*text, format, path.parent_path(), path.string());
  if (c) c->source = path;
  return c;
}

}  // namespace sy::coe
