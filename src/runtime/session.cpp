#include "runtime/session.h"

namespace sy::runtime {

Session::Session(const model::Model& model, const SessionOptions& options)
    : engine_(model, EngineOptions{.n_threads = options.n_threads}),
      sequence_(engine_.new_sequence(SequenceOptions{.n_ctx = options.n_ctx})) {}

Status Session::eval(std::span<const int32_t> tokens, std::vector<float>& logits, Logits which) {
  if (auto s = engine_.step(*sequence_, tokens, which); !s) return s;
  const std::span<const float> out = sequence_->logits();
  logits.assign(out.begin(), out.end());
  return {};
}

}  // namespace sy::runtime
