// The `embedding` router (the CoE router, moe-reference.md B19): a sentence embedding of the prompt from a small
// model (runtime/text_embedder.h: mean of the output-normed final hidden states), a classifier over categories
// (classifier.h, trained by `switchyard router train`), the composition's category → model table, and a
// confidence threshold: when the top category's probability is below it, the default model answers.
//
// The classifier file records which embedder it was trained on (file name, size, architecture, dims); a
// composition whose embedder differs is refused when the router is made, naming both.
// Thread-safety: route() may be called from several threads at once; the embedder runs one call at a time.
#pragma once

#include <memory>

#include "coe/classifier.h"
#include "coe/prompt_router.h"
#include "runtime/text_embedder.h"

namespace sy::coe {

// The GGUF path a router model key names: a model of the composition by name, or a path (already resolved).
std::filesystem::path router_model_path(const Composition& composition, const std::string& key);

Result<std::unique_ptr<PromptRouter>> make_embedding_router(const Composition& composition,
                                                            const RouterOptions& options);

// The same from parts (router eval and tests swap classifiers on one embedder): the classifier must match the
// embedder (checked here).
Result<std::unique_ptr<PromptRouter>> make_embedding_router(const Composition& composition,
                                                            std::shared_ptr<runtime::TextEmbedder> embedder,
                                                            Classifier classifier, std::string classifier_origin);

// Refuses a classifier trained on another embedder: names the field that differs.
Status check_embedder(const Classifier& classifier, const runtime::TextEmbedder& embedder,
                      std::string_view classifier_origin);
EmbedderId embedder_id(const runtime::TextEmbedder& embedder);

// `router train`: every example's embedding and label. Categories are the examples' (sorted); when `allowed` is not
// empty, a category outside it fails, naming the example (numbered from 1 in file order; `origin` names the file).
struct EmbeddedExamples {
  std::vector<std::string> categories;
  std::vector<float> embeddings;  // [examples][dims]
  std::vector<int32_t> labels;    // indices into categories
};
Result<EmbeddedExamples> embed_examples(runtime::TextEmbedder& embedder, std::span<const Example> examples,
                                        std::span<const std::string> allowed, std::string_view origin);

}  // namespace sy::coe
