// Choosing the next token from logits. Greedy (temperature 0) takes the largest logit, the lowest id on ties.
// Penalties first (both modes): repetition (llama.cpp's), then presence and frequency (OpenAI's), over the last
// repeat_last_n tokens. Then, unless greedy: top-k → temperature → softmax → top-p → min-p → a seeded draw.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace sy::runtime {

struct SamplingParams {
  float temperature = 0.0f;        // 0: greedy
  int32_t top_k = 0;               // 0: off
  float top_p = 1.0f;              // 1: off
  float min_p = 0.0f;              // 0: off
  float repeat_penalty = 1.0f;     // 1: off; divides positive / multiplies negative logits of recent tokens
  int32_t repeat_last_n = 64;      // how many recent tokens the penalties look at (-1: all)
  float presence_penalty = 0.0f;   // 0: off; subtracted once from the logit of every recent token
  float frequency_penalty = 0.0f;  // 0: off; subtracted per occurrence among the recent tokens
  uint64_t seed = 0;

  // What the commands start from (llama.cpp's defaults): temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
  // no repetition penalty. A value-initialised SamplingParams is greedy with every filter off.
  static SamplingParams defaults() {
    return {.temperature = 0.8f,
            .top_k = 40,
            .top_p = 0.95f,
            .min_p = 0.05f,
            .repeat_penalty = 1.0f,
            .repeat_last_n = 64,
            .presence_penalty = 0.0f,
            .frequency_penalty = 0.0f,
            .seed = 0};
  }
};

// The lowest index among the largest values.
int32_t argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}
  // history: the tokens so far (for the repetition penalty).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<std::pair<int32_t, int32_t>> counts_;  // (token, occurrences) among the recent tokens
};

}  // namespace sy::runtime
