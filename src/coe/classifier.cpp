#include "coe/classifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/file_io.h"

namespace sy::coe {
namespace {

using json = nlohmann::json;

constexpr std::string_view kFormat = "switchyard-router";
constexpr size_t kMaxExampleTextBytes = size_t{1} << 20;

std::vector<double> softmax(std::vector<double> logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (double& l : logits) sum += (l = std::exp(l - max));
  for (double& l : logits) l /= sum;
  return logits;
}

double norm(std::span<const double> v) {
  double s = 0;
  for (const double x : v) s += x * x;
  return std::sqrt(s);
}

// The reader's error: the file and the field.
class Reader {
 public:
  explicit Reader(std::string_view origin) : origin_(origin) {}

  template <typename... Args>
  Error error(fmt::format_string<Args...> format, Args&&... args) const {
    return {ErrorCode::kInvalidInput, fmt::format("{}: {}", origin_, fmt::format(format, std::forward<Args>(args)...))};
  }

  Result<std::string> string(const json& j, const char* key, std::string_view where) const {
    const auto it = j.find(key);
    if (it == j.end()) return tl::unexpected(error("missing '{}'{}", key, where));
    if (!it->is_string()) return tl::unexpected(error("'{}'{} must be a string", key, where));
    auto s = it->get<std::string>();
    if (s.size() > 4096) return tl::unexpected(error("'{}'{} is longer than 4096 bytes", key, where));
    return s;
  }

  Result<int64_t> integer(const json& j, const char* key, std::string_view where, int64_t lo, int64_t hi) const {
    const auto it = j.find(key);
    if (it == j.end()) return tl::unexpected(error("missing '{}'{}", key, where));
    if (!it->is_number_integer()) return tl::unexpected(error("'{}'{} must be an integer", key, where));
    const bool too_big = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi);
    if (too_big || it->get<int64_t>() < lo || it->get<int64_t>() > hi)
      return tl::unexpected(error("'{}'{} is outside {}..{}", key, where, lo, hi));
    return it->get<int64_t>();
  }

  Result<double> number(const json& j, const char* key) const {
    const auto it = j.find(key);
    if (it == j.end()) return tl::unexpected(error("missing '{}'", key));
    return finite(*it, key);
  }

  Result<double> finite(const json& v, std::string_view field) const {
    if (!v.is_number()) return tl::unexpected(error("'{}' must be a number", field));
    const double x = v.get<double>();
    if (!std::isfinite(x) || std::fabs(x) > kMaxClassifierValue)
      return tl::unexpected(error("'{}' is not a finite number of magnitude at most {:g}", field, kMaxClassifierValue));
    return x;
  }

  // A numeric array of exactly n values, appended to out.
  Status vector(const json& v, std::string_view field, size_t n, std::vector<float>& out) const {
    if (!v.is_array()) return tl::unexpected(error("'{}' must be an array of numbers", field));
    if (v.size() != n) return tl::unexpected(error("'{}' has {} values, expected {}", field, v.size(), n));
    for (size_t i = 0; i < n; ++i) {
      auto x = finite(v[i], fmt::format("{}[{}]", field, i));
      if (!x) return tl::unexpected(x.error());
      out.push_back(static_cast<float>(*x));
    }
    return {};
  }

 private:
  std::string origin_;
};

}  // namespace

std::string_view classifier_method_name(ClassifierMethod method) {
  return method == ClassifierMethod::kLogistic ? "logistic" : "centroid";
}

std::vector<double> Classifier::probabilities(std::span<const float> embedding) const {
  SY_ASSERT(static_cast<int64_t>(embedding.size()) == dims, "callers check the embedder's dims against the file's");
  std::vector<double> z(static_cast<size_t>(dims));
  for (size_t i = 0; i < z.size(); ++i) z[i] = (static_cast<double>(embedding[i]) - mean[i]) / scale[i];
  if (method == ClassifierMethod::kCentroid) {
    const double n = norm(z);
    for (double& x : z) x /= n > 0 ? n : 1;
  }
  std::vector<double> logits(categories.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    double dot = 0;
    const float* w = weights.data() + c * z.size();
    for (size_t i = 0; i < z.size(); ++i) dot += static_cast<double>(w[i]) * z[i];
    logits[c] = method == ClassifierMethod::kCentroid ? temperature * dot : dot + bias[c];
  }
  return softmax(std::move(logits));
}

Result<Classifier> parse_classifier(std::string_view text, std::string_view origin) {
  const Reader r(origin);
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return tl::unexpected(r.error("not valid JSON"));
  if (!j.is_object()) return tl::unexpected(r.error("the top level must be an object"));
  auto format = r.string(j, "format", "");
  if (!format) return tl::unexpected(format.error());
  if (*format != kFormat) return tl::unexpected(r.error("'format' is '{}', expected '{}'", *format, kFormat));
  auto version = r.integer(j, "version", "", 0, 1 << 20);
  if (!version) return tl::unexpected(version.error());
  if (*version != kClassifierVersion)
    return tl::unexpected(r.error("'version' {} is not supported (this build reads {})", *version, kClassifierVersion));

  Classifier c;
  auto method = r.string(j, "method", "");
  if (!method) return tl::unexpected(method.error());
  if (*method == "centroid") {
    c.method = ClassifierMethod::kCentroid;
  } else if (*method == "logistic") {
    c.method = ClassifierMethod::kLogistic;
  } else {
    return tl::unexpected(r.error("'method' is '{}', expected 'centroid' or 'logistic'", *method));
  }

  const auto emb = j.find("embedder");
  if (emb == j.end() || !emb->is_object()) return tl::unexpected(r.error("'embedder' must be an object"));
  auto file = r.string(*emb, "file", " in 'embedder'");
  auto arch = r.string(*emb, "arch", " in 'embedder'");
  auto bytes = r.integer(*emb, "bytes", " in 'embedder'", 0, int64_t{1} << 50);
  auto emb_dims = r.integer(*emb, "dims", " in 'embedder'", 1, kMaxClassifierDims);
  for (const Error* e : {file ? nullptr : &file.error(), arch ? nullptr : &arch.error(),
                         bytes ? nullptr : &bytes.error(), emb_dims ? nullptr : &emb_dims.error()})
    if (e != nullptr) return tl::unexpected(*e);
  c.embedder = {.file = *file, .bytes = static_cast<uint64_t>(*bytes), .arch = *arch, .dims = *emb_dims};

  auto dims = r.integer(j, "dims", "", 1, kMaxClassifierDims);
  if (!dims) return tl::unexpected(dims.error());
  c.dims = *dims;
  if (c.dims != c.embedder.dims)
    return tl::unexpected(r.error("'dims' {} differs from the embedder's dims {}", c.dims, c.embedder.dims));

  const auto cats = j.find("categories");
  if (cats == j.end() || !cats->is_array() || cats->empty())
    return tl::unexpected(r.error("'categories' must be a non-empty array of strings"));
  if (cats->size() > kMaxCategories)
    return tl::unexpected(r.error("'categories' has {} entries, at most {}", cats->size(), kMaxCategories));
  for (size_t i = 0; i < cats->size(); ++i) {
    const json& v = (*cats)[i];
    if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 256)
      return tl::unexpected(r.error("'categories[{}]' must be a non-empty string of at most 256 bytes", i));
    if (std::find(c.categories.begin(), c.categories.end(), v.get<std::string>()) != c.categories.end())
      return tl::unexpected(r.error("'categories[{}]' repeats '{}'", i, v.get<std::string>()));
    c.categories.push_back(v.get<std::string>());
  }
  const size_t n_cat = c.categories.size(), d = static_cast<size_t>(c.dims);

  for (auto [key, out] : {std::pair{"mean", &c.mean}, std::pair{"scale", &c.scale}}) {
    const auto it = j.find(key);
    if (it == j.end()) return tl::unexpected(r.error("missing '{}'", key));
    if (auto s = r.vector(*it, key, d, *out); !s) return tl::unexpected(s.error());
  }
  for (size_t i = 0; i < d; ++i)
    if (!(c.scale[i] > 1e-12f)) return tl::unexpected(r.error("'scale[{}]' must be positive", i));

  const auto w = j.find("weights");
  if (w == j.end() || !w->is_array()) return tl::unexpected(r.error("'weights' must be an array of arrays"));
  if (w->size() != n_cat)
    return tl::unexpected(r.error("'weights' has {} rows, expected one per category ({})", w->size(), n_cat));
  c.weights.reserve(n_cat * d);
  for (size_t k = 0; k < n_cat; ++k)
    if (auto s = r.vector((*w)[k], fmt::format("weights[{}]", k), d, c.weights); !s) return tl::unexpected(s.error());
  const auto b = j.find("bias");
  if (b == j.end()) return tl::unexpected(r.error("missing 'bias'"));
  if (auto s = r.vector(*b, "bias", n_cat, c.bias); !s) return tl::unexpected(s.error());

  auto temperature = r.number(j, "temperature");
  if (!temperature) return tl::unexpected(temperature.error());
  if (!(*temperature > 0)) return tl::unexpected(r.error("'temperature' must be positive"));
  c.temperature = *temperature;
  auto examples = r.integer(j, "examples", "", 0, int64_t{1} << 40);
  if (!examples) return tl::unexpected(examples.error());
  c.examples = *examples;
  return c;
}

Result<Classifier> load_classifier(const std::filesystem::path& path) {
  auto text = read_file(path, "router classifier file", kMaxClassifierBytes);
  if (!text) return tl::unexpected(text.error());
  return parse_classifier(*text, path.string());
}

std::string classifier_json(const Classifier& c) {
  const size_t d = static_cast<size_t>(c.dims);
  json weights = json::array();
  for (size_t k = 0; k < c.categories.size(); ++k)
    weights.push_back(std::vector<float>(c.weights.begin() + static_cast<std::ptrdiff_t>(k * d),
                                         c.weights.begin() + static_cast<std::ptrdiff_t>((k + 1) * d)));
  const json j = {
      {"format", kFormat},
      {"version", kClassifierVersion},
      {"method", classifier_method_name(c.method)},
      {"embedder",
       {{"file", c.embedder.file}, {"bytes", c.embedder.bytes}, {"arch", c.embedder.arch}, {"dims", c.embedder.dims}}},
      {"categories", c.categories},
      {"dims", c.dims},
      {"mean", c.mean},
      {"scale", c.scale},
      {"weights", weights},
      {"bias", c.bias},
      {"temperature", c.temperature},
      {"examples", c.examples}};
  return j.dump() + "\n";
}

Result<std::vector<Example>> read_examples(const std::filesystem::path& path) {
  auto text = read_file(path, "examples file", kMaxExamplesBytes);
  if (!text) return tl::unexpected(text.error());
  std::vector<Example> out;
  size_t line_no = 0;
  for (size_t pos = 0; pos < text->size();) {
    const size_t end = std::min(text->find('\n', pos), text->size());
    const std::string_view line(text->data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto where = [&](std::string_view what) {
      return fail(ErrorCode::kInvalidInput, "{}:{}: {}", path.string(), line_no, what);
    };
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return where("not valid JSON");
    if (!j.is_object()) return where("an example is an object {\"text\": ..., \"category\": ...}");
    Example e;
    for (auto [key, out_field] : {std::pair{"text", &e.text}, std::pair{"category", &e.category}}) {
      const auto it = j.find(key);
      if (it == j.end() || !it->is_string()) return where(fmt::format("'{}' must be a string", key));
      *out_field = it->get<std::string>();
      if (out_field->empty()) return where(fmt::format("'{}' is empty", key));
    }
    if (e.text.size() > kMaxExampleTextBytes) return where("'text' is longer than 1 MiB");
    if (e.category.size() > 256) return where("'category' is longer than 256 bytes");
    out.push_back(std::move(e));
  }
  if (out.empty()) return fail(ErrorCode::kInvalidInput, "{}: no examples", path.string());
  return out;
}

Result<Classifier> train_classifier(std::span<const float> embeddings, std::span<const int32_t> labels,
                                    std::vector<std::string> categories, const EmbedderId& embedder,
                                    const TrainOptions& options) {
  const size_t n = labels.size(), n_cat = categories.size();
  const auto d = static_cast<size_t>(embedder.dims);
  if (n == 0 || d == 0 || embeddings.size() != n * d)
    return fail(ErrorCode::kInvalidInput, "router train: {} embeddings of {} values for {} labels", embeddings.size(),
                d, n);
  std::vector<size_t> count(n_cat, 0);
  for (const int32_t l : labels) {
    SY_ASSERT(l >= 0 && static_cast<size_t>(l) < n_cat, "labels index the category list they were made from");
    ++count[static_cast<size_t>(l)];
  }
  for (size_t k = 0; k < n_cat; ++k)
    if (count[k] == 0)
      return fail(ErrorCode::kInvalidInput, "router train: category '{}' has no example", categories[k]);

  Classifier c;
  c.method = options.method;
  c.embedder = embedder;
  c.categories = std::move(categories);
  c.dims = embedder.dims;
  c.examples = static_cast<int64_t>(n);
  c.temperature = options.temperature;
  // Per-dimension standardisation: hidden states have a few dimensions of large magnitude that would
  // otherwise decide every distance.
  std::vector<double> mean(d, 0), var(d, 0);
  for (size_t e = 0; e < n; ++e)
    for (size_t i = 0; i < d; ++i) mean[i] += embeddings[e * d + i];
  for (double& m : mean) m /= static_cast<double>(n);
  for (size_t e = 0; e < n; ++e)
    for (size_t i = 0; i < d; ++i) var[i] += std::pow(embeddings[e * d + i] - mean[i], 2);
  c.mean.resize(d);
  c.scale.resize(d);
  for (size_t i = 0; i < d; ++i) {
    const double sd = std::sqrt(var[i] / static_cast<double>(n));
    c.mean[i] = static_cast<float>(mean[i]);
    c.scale[i] = static_cast<float>(sd > 1e-6 ? sd : 1.0);
  }
  std::vector<double> z(n * d);
  for (size_t e = 0; e < n; ++e) {
    for (size_t i = 0; i < d; ++i) z[e * d + i] = (embeddings[e * d + i] - mean[i]) / c.scale[i];
    if (c.method == ClassifierMethod::kCentroid) {
      const double len = norm(std::span<const double>(z.data() + e * d, d));
      for (size_t i = 0; i < d; ++i) z[e * d + i] /= len > 0 ? len : 1;
    }
  }
  c.weights.assign(n_cat * d, 0);
  c.bias.assign(n_cat, 0);

  if (c.method == ClassifierMethod::kCentroid) {
    std::vector<double> sum(n_cat * d, 0);
    for (size_t e = 0; e < n; ++e)
      for (size_t i = 0; i < d; ++i) sum[static_cast<size_t>(labels[e]) * d + i] += z[e * d + i];
    for (size_t k = 0; k < n_cat; ++k) {
      const double len = norm(std::span<const double>(sum.data() + k * d, d));
      for (size_t i = 0; i < d; ++i) c.weights[k * d + i] = static_cast<float>(sum[k * d + i] / (len > 0 ? len : 1));
    }
    return c;
  }

  // Multinomial logistic regression, full batch, Adam (robust to the correlated dimensions of hidden states),
  // L2 on the weights; deterministic.
  const size_t n_par = n_cat * d + n_cat;
  std::vector<double> w(n_par, 0), m(n_par, 0), v(n_par, 0), g(n_par);
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  std::vector<double> logits(n_cat);
  for (int it = 1; it <= options.iterations; ++it) {
    std::fill(g.begin(), g.end(), 0.0);
    for (size_t e = 0; e < n; ++e) {
      const double* x = z.data() + e * d;
      for (size_t k = 0; k < n_cat; ++k) {
        double s = w[n_cat * d + k];
        for (size_t i = 0; i < d; ++i) s += w[k * d + i] * x[i];
        logits[k] = s;
      }
      const std::vector<double> p = softmax(logits);
      for (size_t k = 0; k < n_cat; ++k) {
        const double r = p[k] - (static_cast<size_t>(labels[e]) == k ? 1.0 : 0.0);
        for (size_t i = 0; i < d; ++i) g[k * d + i] += r * x[i];
        g[n_cat * d + k] += r;
      }
    }
    const double inv_n = 1.0 / static_cast<double>(n);
    for (size_t q = 0; q < n_par; ++q) {
      g[q] = g[q] * inv_n + (q < n_cat * d ? options.l2 * w[q] : 0.0);
      m[q] = kBeta1 * m[q] + (1 - kBeta1) * g[q];
      v[q] = kBeta2 * v[q] + (1 - kBeta2) * g[q] * g[q];
      const double mh = m[q] / (1 - std::pow(kBeta1, it)), vh = v[q] / (1 - std::pow(kBeta2, it));
      w[q] -= options.learning_rate * mh / (std::sqrt(vh) + kEps);
    }
  }
  for (size_t q = 0; q < n_cat * d; ++q) c.weights[q] = static_cast<float>(w[q]);
  for (size_t k = 0; k < n_cat; ++k) c.bias[k] = static_cast<float>(w[n_cat * d + k]);
  return c;
}

}  // namespace sy::coe
