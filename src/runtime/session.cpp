#include "runtime/session.h"

#include <algorithm>

namespace sy::runtime {
namespace {

int64_t context_size(const model::Model& model, const SessionOptions& o) {
  const int64_t train = model.config().common.n_ctx_train;
  return std::max<int64_t>(1, train > 0 ? std::min(o.n_ctx, train) : o.n_ctx);
}

}  // namespace

Session::Session(const model::Model& model, const SessionOptions& options)
    : model_(model),
      pool_(std::max(1, options.n_threads)),
      cache_(model.config(), context_size(model, options)),
      policy_(&native_),
      store_(&model.resident_experts()) {}

Status Session::eval(std::span<const int32_t> tokens, std::vector<float>& logits, Logits which) {
  const bool last_only = which == Logits::kLast && !tokens.empty();
  logits.resize((last_only ? 1 : tokens.size()) * static_cast<size_t>(n_vocab()));
  const model::ForwardOptions opts{
      .policy = policy_, .experts = store_, .observers = &observers_, .pool = &pool_, .last_logits_only = last_only};
  if (auto s = model::forward(model_, cache_, tokens, pos_, opts, logits.data()); !s) return s;
  pos_ += static_cast<int64_t>(tokens.size());
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return {};
}

void Session::reset() {
  pos_ = 0;
  history_.clear();
}

}  // namespace sy::runtime
