#include "moe/policies/routing_spec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "moe/policies/biased.h"
#include "moe/policies/cache_aware.h"
#include "moe/policies/masked.h"
#include "moe/policies/per_layer.h"
#include "moe/policies/top_k.h"
#include "moe/policies/top_p.h"
#include "moe/policies/uniform_random.h"

namespace sy::moe {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

template <typename T>
std::optional<T> parse_number(std::string_view s) {
  s = trim(s);
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

const MoeLayerInfo* find_layer(std::span<const MoeLayerInfo> layers, int32_t layer) {
  for (const MoeLayerInfo& l : layers)
    if (l.layer == layer) return &l;
  return nullptr;
}

// "3", "0-3", "0-3+7" or "*" → the MoE blocks named; every named block must be an MoE block.
Result<std::vector<int32_t>> parse_layers(std::string_view text, std::span<const MoeLayerInfo> layers, int32_t n_layer,
                                          std::string_view where) {
  std::vector<int32_t> out;
  text = trim(text);
  if (text == "*") {
    for (const MoeLayerInfo& l : layers) out.push_back(l.layer);
    return out;
  }
  for (std::string_view range : split(text, '+')) {
    const auto dash = range.find('-');
    const auto lo = parse_number<int32_t>(range.substr(0, dash));
    const auto hi = dash == std::string_view::npos ? lo : parse_number<int32_t>(range.substr(dash + 1));
    if (!lo || !hi || *lo > *hi)
      return fail(ErrorCode::kInvalidInput, "{}: '{}' is not a layer range (N, N-M, N-M+K or *)", where, range);
    if (*lo < 0 || *hi >= n_layer)
      return fail(ErrorCode::kOutOfRange, "{}: layer range '{}' is outside the model's 0-{}", where, range,
                  n_layer - 1);
    for (int32_t l = *lo; l <= *hi; ++l) {
      if (find_layer(layers, l) == nullptr) {
        if (dash == std::string_view::npos)
          return fail(ErrorCode::kInvalidInput, "{}: layer {} has no MoE router (dense FFN)", where, l);
        continue;  // a range may span dense blocks; it names the MoE blocks inside it
      }
      out.push_back(l);
    }
  }
  return out;
}

// A parsed policy and the slot counts it needs on a layer.
struct ParsedPolicy {
  std::shared_ptr<RoutingPolicy> policy;
  std::string text;
  int32_t k = 0;      // experts it must find per token (0: the layer's native k)
  int32_t slots = 0;  // slots it fills per token (0: k; -1: all experts)
  int32_t need(const RoutingConfig& c) const { return k > 0 ? k : c.n_used; }
  int32_t slots_on(const RoutingConfig& c) const {
    return slots < 0 ? c.n_expert : slots > 0 ? std::min(slots, c.n_expert) : need(c);
  }
};

Result<ParsedPolicy> parse_policy(std::string_view text, std::string_view where) {
  ParsedPolicy out;
  out.text = std::string(trim(text));
  const std::vector<std::string_view> f = split(out.text, ':');
  const std::string_view name = trim(f[0]);
  if (name == "native" && f.size() == 1) {
    out.policy = std::make_shared<NativeRoutingPolicy>();
    return out;
  }
  if (name == "top-k" && f.size() == 2) {
    const auto k = parse_number<int32_t>(f[1]);
    if (!k || *k < 1 || *k > 255)
      return fail(ErrorCode::kInvalidInput, "{}: top-k:K needs a whole K in 1-255, got '{}'", where, f[1]);
    out.policy = std::make_shared<TopKPolicy>(*k);
    out.k = *k;
    return out;
  }
  if (name == "top-p" && f.size() >= 2 && f.size() <= 5) {
    TopPParams p;
    const auto mass = parse_number<float>(f[1]);
    if (!mass || !(*mass > 0.0f && *mass <= 1.0f))
      return fail(ErrorCode::kInvalidInput, "{}: top-p:P needs 0 < P <= 1, got '{}'", where, f[1]);
    p.p = *mass;
    if (f.back() == "renorm") p.renormalize = true;
    const size_t n_fields = f.size() - (p.renormalize ? 1 : 0);
    for (size_t i = 2; i < n_fields; ++i) {
      const auto v = parse_number<int32_t>(f[i]);
      if (!v || *v < (i == 2 ? 1 : 0) || *v > 255)
        return fail(ErrorCode::kInvalidInput, "{}: top-p:P:MIN:MAX[:renorm]: '{}' is not a valid {}", where, f[i],
                    i == 2 ? "MIN (1-255)" : "MAX (0-255, 0 = all)");
      (i == 2 ? p.min : p.max) = *v;
    }
    if (p.max > 0 && p.min > p.max)
      return fail(ErrorCode::kInvalidInput, "{}: top-p MIN {} > MAX {}", where, p.min, p.max);
    out.policy = std::make_shared<TopPPolicy>(p);
    out.k = p.min;
    out.slots = p.max > 0 ? p.max : -1;
    return out;
  }
  if ((name == "random" || name == "uniform-random") && f.size() <= 2) {
    uint64_t seed = 0;
    if (f.size() == 2) {
      const auto s = parse_number<uint64_t>(f[1]);
      if (!s) return fail(ErrorCode::kInvalidInput, "{}: random:SEED needs a whole SEED, got '{}'", where, f[1]);
      seed = *s;
    }
    out.policy = std::make_shared<UniformRandomPolicy>(seed);
    return out;
  }
  return fail(ErrorCode::kInvalidInput,
              "{}: unknown policy '{}' (native, top-k:K, top-p:P[:MIN[:MAX]][:renorm], random[:SEED])", where, text);
}

// Each line "LAYERS: values" (# starts a comment); calls fn(line_no, layers, values) for each.
template <typename Fn>
Status for_each_line(std::string_view text, std::string_view source, std::span<const MoeLayerInfo> layers,
                     int32_t n_layer, Fn fn) {
  int line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::string where = fmt::format("{}:{}", source, line_no);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(ErrorCode::kInvalidInput, "{}: expected 'LAYERS: values'", where);
    auto named = parse_layers(line.substr(0, colon), layers, n_layer, where);
    if (!named) return tl::unexpected(named.error());
    std::vector<std::string_view> values;
    for (std::string_view v : split(line.substr(colon + 1), ' '))
      for (std::string_view w : split(v, ','))
        if (!trim(w).empty()) values.push_back(trim(w));
    if (auto s = fn(where, *named, values); !s) return s;
  }
  return {};
}

}  // namespace

Result<std::vector<std::vector<uint8_t>>> parse_expert_mask(std::string_view text, std::string_view source,
                                                            std::span<const MoeLayerInfo> layers, int32_t n_layer) {
  std::vector<std::vector<uint8_t>> mask(static_cast<size_t>(n_layer));
  auto s = for_each_line(text, source, layers, n_layer,
                         [&](const std::string& where, const std::vector<int32_t>& named,
                             const std::vector<std::string_view>& values) -> Status {
                           for (int32_t l : named) {
                             const MoeLayerInfo& info = *find_layer(layers, l);
                             auto& row = mask[static_cast<size_t>(l)];
                             row.resize(static_cast<size_t>(info.config.n_expert), 0);
                             for (std::string_view v : values) {
                               const auto e = parse_number<int32_t>(v);
                               if (!e) return fail(ErrorCode::kInvalidInput, "{}: '{}' is not an expert id", where, v);
                               if (*e < 0 || *e >= info.config.n_expert)
                                 return fail(ErrorCode::kOutOfRange, "{}: expert {} is outside layer {}'s 0-{}", where,
                                             *e, l, info.config.n_expert - 1);
                               row[static_cast<size_t>(*e)] = 1;
                             }
                           }
                           return {};
                         });
  if (!s) return tl::unexpected(s.error());
  return mask;
}

Result<std::vector<std::vector<float>>> parse_route_bias(std::string_view text, std::string_view source,
                                                         std::span<const MoeLayerInfo> layers, int32_t n_layer) {
  std::vector<std::vector<float>> bias(static_cast<size_t>(n_layer));
  auto s = for_each_line(text, source, layers, n_layer,
                         [&](const std::string& where, const std::vector<int32_t>& named,
                             const std::vector<std::string_view>& values) -> Status {
                           for (int32_t l : named) {
                             const int32_t E = find_layer(layers, l)->config.n_expert;
                             if (static_cast<int32_t>(values.size()) != E)
                               return fail(ErrorCode::kInvalidInput,
                                           "{}: layer {} needs {} bias values (one per expert), got {}", where, l, E,
                                           values.size());
                             auto& row = bias[static_cast<size_t>(l)];
                             row.clear();
                             for (std::string_view v : values) {
                               const auto b = parse_number<float>(v);
                               if (!b || !std::isfinite(*b))
                                 return fail(ErrorCode::kInvalidInput, "{}: '{}' is not a finite number", where, v);
                               row.push_back(*b);
                             }
                           }
                           return {};
                         });
  if (!s) return tl::unexpected(s.error());
  return bias;
}

Result<BuiltRouting> build_routing_policy(const RoutingSpec& spec, std::span<const MoeLayerInfo> layers,
                                          int32_t n_layer) {
  // Entries: the default (no LAYERS=) and per-layer overrides; a layer may be named once.
  std::optional<ParsedPolicy> fallback;
  std::vector<std::optional<ParsedPolicy>> per_layer(static_cast<size_t>(n_layer));
  bool any_override = false;
  if (spec.experts_per_token > 0) {
    auto p = parse_policy(fmt::format("top-k:{}", spec.experts_per_token), "--experts-per-token");
    if (!p) return tl::unexpected(p.error());
    fallback = std::move(*p);
  }
  std::optional<float> cache_bonus;
  if (!trim(spec.route).empty()) {
    for (std::string_view entry : split(spec.route, ',')) {
      const std::string where = fmt::format("--route '{}'", trim(entry));
      // cache-aware:B wraps whatever the other entries build, on every layer: it takes no LAYERS=.
      if (trim(entry).starts_with("cache-aware")) {
        const std::string_view t = trim(entry);
        const auto b = t.starts_with("cache-aware:") ? parse_number<float>(t.substr(12)) : std::nullopt;
        if (!b || !std::isfinite(*b) || *b < 0.0f || *b > 1e6f)
          return fail(ErrorCode::kInvalidInput, "{}: cache-aware:B needs a number B >= 0 (a score bonus)", where);
        if (cache_bonus) return fail(ErrorCode::kInvalidInput, "{}: cache-aware is already given", where);
        cache_bonus = *b;
        continue;
      }
      const auto eq = entry.find('=');
      auto policy = parse_policy(eq == std::string_view::npos ? entry : entry.substr(eq + 1), where);
      if (!policy) return tl::unexpected(policy.error());
      if (eq == std::string_view::npos) {
        if (fallback)
          return fail(ErrorCode::kInvalidInput, "{}: a default policy is already given ({})", where, fallback->text);
        fallback = std::move(*policy);
        continue;
      }
      auto named = parse_layers(entry.substr(0, eq), layers, n_layer, where);
      if (!named) return tl::unexpected(named.error());
      for (int32_t l : *named) {
        auto& slot = per_layer[static_cast<size_t>(l)];
        if (slot) return fail(ErrorCode::kInvalidInput, "{}: layer {} already has policy {}", where, l, slot->text);
        slot = *policy;
        any_override = true;
      }
    }
  }
  std::vector<std::vector<uint8_t>> mask;
  if (!spec.mask_text.empty()) {
    auto m = parse_expert_mask(spec.mask_text, spec.mask_source, layers, n_layer);
    if (!m) return tl::unexpected(m.error());
    mask = std::move(*m);
  }
  std::vector<std::vector<float>> bias;
  if (!spec.bias_text.empty()) {
    auto b = parse_route_bias(spec.bias_text, spec.bias_source, layers, n_layer);
    if (!b) return tl::unexpected(b.error());
    bias = std::move(*b);
  }
  if (!fallback) {
    auto p = parse_policy("native", "");
    fallback = std::move(*p);
  }
  // Every layer's policy must be able to fill its slots from the experts it may use.
  BuiltRouting built;
  for (const MoeLayerInfo& info : layers) {
    const auto l = static_cast<size_t>(info.layer);
    const ParsedPolicy& p = per_layer[l] ? *per_layer[l] : *fallback;
    int32_t enabled = info.config.n_expert;
    if (l < mask.size())
      for (uint8_t off : mask[l]) enabled -= off != 0 ? 1 : 0;
    const int32_t reachable = info.config.n_group > 1
                                  ? info.config.n_expert / info.config.n_group * info.config.n_group_used
                                  : info.config.n_expert;
    const int32_t can = std::min(enabled, reachable);
    if (p.need(info.config) > can)
      return fail(ErrorCode::kInvalidInput,
                  "layer {}: policy {} needs {} experts per token but only {} can be chosen{}", info.layer, p.text,
                  p.need(info.config), can, enabled < info.config.n_expert ? " (after the expert mask)" : "");
    built.max_slots = std::max(built.max_slots, p.slots_on(info.config));
    built.description += fmt::format("{}{}={}", built.description.empty() ? "" : ",", info.layer, p.text);
  }
  if (!mask.empty()) built.description += fmt::format(" mask={}", spec.mask_source);
  if (!bias.empty()) built.description += fmt::format(" bias={}", spec.bias_source);
  if (cache_bonus) built.description += fmt::format(" cache-aware={}", *cache_bonus);
  const bool native_only = fallback->text == "native" && !any_override && mask.empty() && bias.empty() && !cache_bonus;
  if (native_only) return built;
  std::vector<std::shared_ptr<RoutingPolicy>> table(static_cast<size_t>(n_layer));
  for (size_t l = 0; l < table.size(); ++l)
    if (per_layer[l]) table[l] = per_layer[l]->policy;
  std::unique_ptr<RoutingPolicy> policy = std::make_unique<PerLayerPolicy>(std::move(table), fallback->policy);
  if (!mask.empty()) policy = std::make_unique<MaskedPolicy>(std::move(mask), std::move(policy));
  if (!bias.empty()) policy = std::make_unique<BiasedPolicy>(std::move(bias), std::move(policy));
  if (cache_bonus) policy = std::make_unique<CacheAwarePolicy>(*cache_bonus, std::move(policy));
  built.policy = std::move(policy);
  return built;
}

}  // namespace sy::moe
