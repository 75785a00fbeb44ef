#include "runtime/engine.h"

#include <algorithm>

namespace sy::runtime {
namespace {

int64_t context_size(const model::Model& model, int64_t asked) {
  const int64_t train = model.config().common.n_ctx_train;
  return std::max<int64_t>(1, train > 0 ? std::min(asked, train) : asked);
}

}  // namespace

Sequence::Sequence(const Engine& engine, const SequenceOptions& options, int32_t id)
    : id_(id), cache_(engine.model().config(), context_size(engine.model(), options.n_ctx)) {}

void Sequence::reset() {
  pos_ = 0;
  history_.clear();
  logits_.clear();
  hidden_.clear();
}

void Sequence::truncate(int64_t n) {
  SY_ASSERT(n >= 0 && n <= pos_, "callers keep a prefix of what the sequence holds");
  pos_ = n;
  history_.resize(static_cast<size_t>(n));
  logits_.clear();
  hidden_.clear();
}

void Sequence::add_observer(std::unique_ptr<moe::RoutingObserver> observer) {
  observers_.add(observer.get());
  owned_observers_.push_back(std::move(observer));
}

Engine::Engine(const model::Model& model, const EngineOptions& options)
    : model_(model), pool_(std::max(1, options.n_threads)), policy_(&native_), store_(&model.resident_experts()) {}

std::unique_ptr<Sequence> Engine::new_sequence(const SequenceOptions& options) {
  return std::make_unique<Sequence>(*this, options, next_sequence_id_++);
}

void Engine::set_policy(std::unique_ptr<moe::RoutingPolicy> policy) {
  owned_policy_ = std::move(policy);
  policy_ = owned_policy_ != nullptr ? owned_policy_.get() : &native_;
}

void Engine::add_observer(std::unique_ptr<moe::RoutingObserver> observer) {
  observers_.add(observer.get());
  owned_observers_.push_back(std::move(observer));
}

void Engine::set_expert_store(moe::ExpertStore* store) {
  store_ = store != nullptr ? store : &model_.resident_experts();
  if (owned_store_ && store_ != owned_store_.get()) owned_store_.reset();
}

void Engine::adopt_expert_store(std::unique_ptr<moe::ExpertStore> store) {
  owned_store_ = std::move(store);
  store_ = owned_store_ ? owned_store_.get() : &model_.resident_experts();
}

Status Engine::step(std::span<const Step> batch) {
  const auto n_vocab = static_cast<size_t>(this->n_vocab());
  inputs_.clear();
  for (const Step& s : batch) {
    if (s.sequence == nullptr) return fail(ErrorCode::kInvalidInput, "a batch step has no sequence");
    Sequence& q = *s.sequence;
    const bool all = s.logits == Logits::kAll;
    const size_t rows = all ? s.tokens.size() : std::min<size_t>(1, s.tokens.size());
    q.logits_.resize(rows * n_vocab);
    q.hidden_.resize(s.hidden ? rows * static_cast<size_t>(model_.config().common.n_embd) : 0);
    inputs_.push_back(model::SequenceInput{.cache = &q.cache_,
                                           .tokens = s.tokens,
                                           .pos0 = q.pos_,
                                           .all_logits = all,
                                           .logits = q.logits_.data(),
                                           .hidden = s.hidden ? q.hidden_.data() : nullptr,
                                           .policy = q.policy_ != nullptr ? q.policy_.get() : policy_,
                                           .observers = q.observers_.empty() ? nullptr : &q.observers_,
                                           .id = q.id_});
  }
  const model::ForwardOptions options{.experts = store_, .observers = &observers_, .pool = &pool_};
  if (auto s = model::forward(model_, inputs_, options, scratch_); !s) return s;
  for (const Step& s : batch) {
    s.sequence->pos_ += static_cast<int64_t>(s.tokens.size());
    s.sequence->history_.insert(s.sequence->history_.end(), s.tokens.begin(), s.tokens.end());
  }
  return {};
}

Status Engine::step(Sequence& sequence, std::span<const int32_t> tokens, Logits which) {
  const Step one{.sequence = &sequence, .tokens = tokens, .logits = which};
  return step(std::span<const Step>(&one, 1));
}

}  // namespace sy::runtime
