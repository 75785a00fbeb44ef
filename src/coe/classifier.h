// The embedding router's classifier: sentence embeddings (runtime/text_embedder.h) to probabilities over
// categories. Trained by `switchyard router train` and stored as a small versioned JSON file:
//
//   {"format": "switchyard-router", "version": 1, "method": "centroid" | "logistic",
//    "embedder": {"file": "switchyard-moe-mini.q8_0.gguf", "bytes": 13161248, "arch": "qwen3moe", "dims": 256},
//    "categories": ["code", "de", ...], "dims": 256,
//    "mean": [dims], "scale": [dims],          // normalisation: z = (embedding − mean) / scale
//    "weights": [[dims] per category],         // centroid: unit mean of the category's unit z; logistic: W
//    "bias": [per category],                   // centroid: 0
//    "temperature": 20.0,                      // centroid: probabilities = softmax(temperature · cosine)
//    "examples": 1350}                         // how many examples trained it (information)
//
// Logits: centroid, temperature · cos(z, weights[c]); logistic, weights[c] · z + bias[c]; probabilities are their
// softmax. The file is outside data: the reader bounds its sizes and refuses NaN, infinities and huge numbers,
// and every error names the file and the field.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace sy::coe {

enum class ClassifierMethod { kCentroid, kLogistic };
std::string_view classifier_method_name(ClassifierMethod method);

struct EmbedderId {
  std::string file;  // the GGUF's file name (no folder: the router file moves with the models)
  uint64_t bytes = 0;
  std::string arch;
  int64_t dims = 0;
};

struct Classifier {
  ClassifierMethod method = ClassifierMethod::kCentroid;
  EmbedderId embedder;
  std::vector<std::string> categories;
  int64_t dims = 0;
  std::vector<float> mean, scale;  // [dims]
  std::vector<float> weights;      // [categories][dims]
  std::vector<float> bias;         // [categories]
  double temperature = 1;          // centroid only
  int64_t examples = 0;

  // [categories], summing to 1. embedding: [dims].
  std::vector<double> probabilities(std::span<const float> embedding) const;
};

inline constexpr int kClassifierVersion = 1;
inline constexpr size_t kMaxClassifierBytes = size_t{16} << 20;
inline constexpr int64_t kMaxClassifierDims = 16384;
inline constexpr size_t kMaxCategories = 256;
inline constexpr double kMaxClassifierValue = 1e6;  // any stored number beyond this is refused

Result<Classifier> parse_classifier(std::string_view json_text, std::string_view origin);
Result<Classifier> load_classifier(const std::filesystem::path& path);
std::string classifier_json(const Classifier& classifier);

// One training example of `router train`: a line {"text": ..., "category": ...} of a JSONL file.
struct Example {
  std::string text;
  std::string category;
};
inline constexpr size_t kMaxExamplesBytes = size_t{256} << 20;
// Fails naming the file and the line (1-based) of a malformed line, a missing or non-string field, an empty
// text or category; blank lines are skipped. Fails for a file with no example.
Result<std::vector<Example>> read_examples(const std::filesystem::path& path);

// Trains a classifier on embeddings [n][dims] with labels (indices into categories, each category at least one
// example). The embedder id is copied into the result.
struct TrainOptions {
  ClassifierMethod method = ClassifierMethod::kCentroid;
  double l2 = 1e-3;             // logistic: weight decay
  int iterations = 300;         // logistic: full-batch Adam steps
  double learning_rate = 0.05;  // logistic: Adam step
  double temperature = 20;      // centroid
};
Result<Classifier> train_classifier(std::span<const float> embeddings, std::span<const int32_t> labels,
                                    std::vector<std::string> categories, const EmbedderId& embedder,
                                    const TrainOptions& options);

}  // namespace sy::coe
