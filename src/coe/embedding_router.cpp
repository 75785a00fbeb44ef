#include "coe/embedding_router.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace sy::coe {
namespace {

class EmbeddingRouter final : public PromptRouter {
 public:
  EmbeddingRouter(const Composition& composition, std::shared_ptr<runtime::TextEmbedder> embedder,
                  Classifier classifier)
      : embedder_(std::move(embedder)),
        classifier_(std::move(classifier)),
        threshold_(composition.router.threshold),
        default_model_(composition.default_model) {
    for (const std::string& category : classifier_.categories)
      category_model_.push_back(composition.model_for_category(category));
  }

  RouterKind kind() const override { return RouterKind::kEmbedding; }

  Result<RouteDecision> route(std::string_view prompt) override {
    RouteDecision d;
    auto embedding = embedder_->embed(prompt);
    if (!embedding) {
      // A prompt with no tokens has nothing to embed: the default model answers it.
      if (embedding.error().code != ErrorCode::kInvalidInput) return tl::unexpected(embedding.error());
      d.model = default_model_;
      d.confidence = 0;
      d.reason = "empty prompt: default model";
      return d;
    }
    const std::vector<double> p = classifier_.probabilities(*embedding);
    const auto best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    d.category = classifier_.categories[best];
    d.confidence = p[best];
    if (d.confidence < threshold_) {
      d.model = default_model_;
      d.reason = fmt::format("category {} at {:.2f}, below threshold {:.2f}: default model", d.category, d.confidence,
                             threshold_);
    } else {
      d.model = category_model_[best];
      d.reason = fmt::format("category {} at {:.2f}", d.category, d.confidence);
    }
    return d;
  }

 private:
  std::shared_ptr<runtime::TextEmbedder> embedder_;
  Classifier classifier_;
  double threshold_;
  std::string default_model_;
  std::vector<std::string> category_model_;  // parallel to classifier_.categories
};

}  // namespace

std::filesystem::path router_model_path(const Composition& composition, const std::string& key) {
  if (const ModelEntry* m = composition.find(key)) return m->path;
  return key;  // load_composition resolved it against the composition's folder
}

EmbedderId embedder_id(const runtime::TextEmbedder& embedder) {
  const model::Model& m = embedder.model();
  return {.file = m.path().filename().string(),
          .bytes = m.file().file_size(),
          .arch = m.config().common.arch,
          .dims = embedder.dims()};
}

Status check_embedder(const Classifier& classifier, const runtime::TextEmbedder& embedder,
                      std::string_view classifier_origin) {
  const EmbedderId have = embedder_id(embedder);
  const EmbedderId& want = classifier.embedder;
  const auto differ = [&](std::string_view field, const auto& a, const auto& b) {
    return fail(ErrorCode::kInvalidInput,
                "{}: 'embedder.{}' is {}, but the embedder {} has {}: the classifier was trained on another model",
                classifier_origin, field, a, embedder.model().path().string(), b);
  };
  if (want.arch != have.arch) return differ("arch", want.arch, have.arch);
  if (want.dims != have.dims) return differ("dims", want.dims, have.dims);
  if (want.bytes != have.bytes) return differ("bytes", want.bytes, have.bytes);
  if (want.file != have.file) return differ("file", want.file, have.file);
  return {};
}

Result<std::unique_ptr<PromptRouter>> make_embedding_router(const Composition& composition,
                                                            std::shared_ptr<runtime::TextEmbedder> embedder,
                                                            Classifier classifier, std::string classifier_origin) {
  if (auto s = check_embedder(classifier, *embedder, classifier_origin); !s) return tl::unexpected(s.error());
  return std::make_unique<EmbeddingRouter>(composition, std::move(embedder), std::move(classifier));
}

Result<std::unique_ptr<PromptRouter>> make_embedding_router(const Composition& composition,
                                                            const RouterOptions& options) {
  const RouterSpec& spec = composition.router;
  auto classifier = load_classifier(spec.classifier);
  if (!classifier)
    return fail(classifier.error().code, "{}: [router] classifier: {}", composition.source.string(),
                classifier.error().message);
  const std::filesystem::path path = router_model_path(composition, spec.embedder);
  auto embedder = runtime::TextEmbedder::open(path, {.n_threads = options.n_threads});
  if (!embedder)
    return fail(embedder.error().code, "{}: [router] embedder '{}': {}", composition.source.string(), spec.embedder,
                embedder.error().message);
  return make_embedding_router(composition, std::shared_ptr<runtime::TextEmbedder>(std::move(*embedder)),
                               std::move(*classifier), spec.classifier.string());
}

Result<EmbeddedExamples> embed_examples(runtime::TextEmbedder& embedder, std::span<const Example> examples,
                                        std::span<const std::string> allowed, std::string_view origin) {
  EmbeddedExamples out;
  for (size_t i = 0; i < examples.size(); ++i) {
    const std::string& c = examples[i].category;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), c) == allowed.end())
      return fail(ErrorCode::kInvalidInput, "{}: example {}: unknown category '{}' (known: {})", origin, i + 1, c,
                  fmt::join(allowed, ", "));
    if (std::find(out.categories.begin(), out.categories.end(), c) == out.categories.end()) out.categories.push_back(c);
  }
  std::sort(out.categories.begin(), out.categories.end());
  out.embeddings.reserve(examples.size() * static_cast<size_t>(embedder.dims()));
  for (size_t i = 0; i < examples.size(); ++i) {
    auto v = embedder.embed(examples[i].text);
    if (!v) return fail(v.error().code, "{}: example {}: {}", origin, i + 1, v.error().message);
    out.embeddings.insert(out.embeddings.end(), v->begin(), v->end());
    out.labels.push_back(static_cast<int32_t>(
        std::find(out.categories.begin(), out.categories.end(), examples[i].category) - out.categories.begin()));
  }
  return out;
}

}  // namespace sy::coe
