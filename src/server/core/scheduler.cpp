#include "server/core/scheduler.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "server/core/stop_strings.h"

namespace sy::server {
namespace {

// A slot's view of its sequence's routing, for the request it serves: loads per layer over every token the
// request evaluates, and the decision of the last token of the latest step (the one the next token is sampled
// from). Called on the scheduler thread, inside Engine::step.
class SlotRecorder final : public moe::RoutingObserver {
 public:
  void start(bool summary, bool per_token) {
    summary_ = summary;
    per_token_ = per_token;
    load_.clear();
    last_.clear();
  }
  void begin_step() { last_.clear(); }
  void on_routing(const moe::RoutingEvent& e) override {
    if (!summary_ && !per_token_) return;
    const moe::RoutingDecision& d = *e.decision;
    if (summary_) {
      auto it = std::find_if(load_.begin(), load_.end(), [&](const auto& p) { return p.first == e.layer; });
      if (it == load_.end()) {
        load_.emplace_back(e.layer, std::vector<int64_t>(static_cast<size_t>(e.config->n_expert), 0));
        it = load_.end() - 1;
      }
      for (const int32_t id : d.ids)
        if (id >= 0 && static_cast<size_t>(id) < it->second.size()) ++it->second[static_cast<size_t>(id)];
    }
    if (per_token_ && d.n_tokens > 0) {
      LayerChoice c{.layer = e.layer, .ids = {}, .weights = {}};
      const int64_t t = d.n_tokens - 1;
      for (int32_t j = 0; j < d.k; ++j) {
        const size_t at = static_cast<size_t>(t * d.k + j);
        if (d.ids[at] == moe::kNoExpert) continue;
        c.ids.push_back(d.ids[at]);
        c.weights.push_back(d.weights[at]);
      }
      last_.push_back(std::move(c));
    }
  }
  const std::vector<LayerChoice>& last() const { return last_; }
  std::vector<std::pair<int32_t, std::vector<int64_t>>> take_load() {
    std::sort(load_.begin(), load_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return std::move(load_);
  }

 private:
  bool summary_ = false, per_token_ = false;
  std::vector<std::pair<int32_t, std::vector<int64_t>>> load_;
  std::vector<LayerChoice> last_;
};

// Counts every sequence's expert choices into the metrics (an engine-wide observer).
class LoadCounter final : public moe::RoutingObserver {
 public:
  LoadCounter(Metrics& metrics, size_t row) : metrics_(metrics), row_(row) {}
  void on_routing(const moe::RoutingEvent& e) override {
    metrics_.add_expert_load(row_, e.layer, e.decision->ids.data(), e.decision->ids.size());
  }

 private:
  Metrics& metrics_;
  size_t row_;
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// log p(token) and the `top` most likely tokens from raw logits (the model's distribution, before sampling
// filters, as OpenAI reports it).
void fill_logprobs(std::span<const float> logits, int32_t token, int32_t top, GeneratedToken& out) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (const float l : logits) sum += std::exp(static_cast<double>(l - mx));
  const double lse = static_cast<double>(mx) + std::log(sum);
  out.logprob = static_cast<float>(static_cast<double>(logits[static_cast<size_t>(token)]) - lse);
  if (top <= 0) return;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const size_t n = std::min(ids.size(), static_cast<size_t>(top));
  auto by_logit = [&](int32_t a, int32_t b) {
    const float la = logits[static_cast<size_t>(a)], lb = logits[static_cast<size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(), by_logit);
  for (size_t i = 0; i < n; ++i)
    out.top.push_back({ids[i], static_cast<float>(static_cast<double>(logits[static_cast<size_t>(ids[i])]) - lse)});
}

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kTimeout: return "timeout";
    case FinishReason::kError: return "error";
    case FinishReason::kShutdown: return "shutdown";
  }
  return "?";
}

bool Job::take(std::vector<GeneratedToken>& out, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return !pending_.empty() || finished_; });
  for (auto& t : pending_) out.push_back(std::move(t));
  pending_.clear();
  return finished_;
}

bool Job::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

JobResult Job::result() const {
  std::lock_guard lock(mu_);
  return result_;
}

void Job::emit(GeneratedToken token) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(token));
  }
  cv_.notify_all();
}

void Job::finish(JobResult result) {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    result_ = std::move(result);
    finished_ = true;
  }
  cv_.notify_all();
}

struct Scheduler::Slot {
  std::unique_ptr<runtime::Sequence> seq;
  SlotRecorder* recorder = nullptr;  // owned by seq
  std::shared_ptr<Job> job;
  std::string routing_key;  // the routing that computed the tokens the sequence holds
  bool reusable = true;     // false after a stateful (random) policy: its cache is not what a fresh one gives
  uint64_t last_use = 0;
  size_t prompt_done = 0;  // prompt tokens the sequence holds
  int64_t reused = 0;
  bool decoding = false;
  int32_t next = -1;  // the token fed in the next step while decoding
  std::optional<runtime::Sampler> sampler;
  std::optional<tok::Detokenizer> detok;
  std::optional<StopMatcher> stops;
  int64_t generated = 0;
  Clock::time_point last_token;
  std::vector<int32_t> step_tokens;  // what this step feeds (the span in the batch points here)
};

Scheduler::Scheduler(runtime::Engine& engine, const tok::Tokenizer& tokenizer, const SchedulerOptions& options,
                     Metrics* metrics, size_t metrics_row)
    : engine_(engine), tokenizer_(tokenizer), metrics_(metrics), metrics_row_(metrics_row), options_(options) {
  options_.n_slots = std::max(1, options_.n_slots);
  options_.prefill_chunk = std::max<int64_t>(1, options_.prefill_chunk);
  options_.prefill_chunk_decoding = std::max<int64_t>(1, options_.prefill_chunk_decoding);
  const int64_t train = engine.model().config().common.n_ctx_train;
  const int64_t asked = options_.n_ctx > 0 ? options_.n_ctx : (train > 0 ? train : 4096);
  for (int32_t i = 0; i < options_.n_slots; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->seq = engine.new_sequence({.n_ctx = asked});
    auto recorder = std::make_unique<SlotRecorder>();
    slot->recorder = recorder.get();
    slot->seq->add_observer(std::move(recorder));
    slots_.push_back(std::move(slot));
  }
  n_ctx_ = slots_.front()->seq->n_ctx();
  if (metrics_ != nullptr) engine.add_observer(std::make_unique<LoadCounter>(*metrics_, metrics_row_));
  {
    std::lock_guard lock(mu_);
    publish_stats_locked();
  }
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { stop(); }

Scheduler::Submit Scheduler::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    if (closed_ || stopping_) return Submit::kClosed;
    // Free slots take jobs at the next step, so the queue bound counts only what must wait for one.
    const int64_t free_slots = options_.n_slots - active_;
    if (static_cast<int64_t>(queue_.size()) >= free_slots + static_cast<int64_t>(options_.max_queue))
      return Submit::kQueueFull;
    queue_.push_back(std::move(job));
    publish_stats_locked();
  }
  cv_.notify_all();
  return Submit::kAccepted;
}

void Scheduler::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

bool Scheduler::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, limit, [&] { return queue_.empty() && active_ == 0; });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Scheduler::Stats Scheduler::stats() const {
  std::lock_guard lock(mu_);
  return {static_cast<int64_t>(queue_.size()), active_, static_cast<int64_t>(slots_.size())};
}

void Scheduler::publish_stats_locked() {
  if (metrics_ != nullptr)
    metrics_->set_scheduler(metrics_row_, static_cast<int64_t>(queue_.size()), active_,
                            static_cast<int64_t>(slots_.size()));
}

// Gives queued jobs free slots, in arrival order. A job takes the free slot that holds the longest prefix of its
// prompt computed with the same routing, else the least recently used one.
void Scheduler::admit_locked() {
  while (!queue_.empty()) {
    std::shared_ptr<Job> job = queue_.front();
    const auto& prompt = job->input().prompt;
    Slot* best = nullptr;
    size_t best_keep = 0;
    for (auto& s : slots_) {
      if (s->job) continue;
      size_t keep = 0;
      if (s->reusable && s->routing_key == job->input().routing_key)
        keep = std::min(common_prefix(s->seq->history(), prompt), prompt.size() - 1);
      if (best == nullptr || keep > best_keep || (keep == best_keep && s->last_use < best->last_use)) {
        best = s.get();
        best_keep = keep;
      }
    }
    if (best == nullptr) return;
    queue_.pop_front();
    Slot& s = *best;
    if (best_keep == 0)
      s.seq->reset();
    else
      s.seq->truncate(static_cast<int64_t>(best_keep));
    JobInput& in = job->mutable_input();
    s.seq->set_policy(std::move(in.policy));
    s.routing_key = in.routing_key;
    s.reusable = in.routing_key.find("random") == std::string::npos;
    s.recorder->start(in.routing_summary || in.routing_per_token, in.routing_per_token);
    s.prompt_done = best_keep;
    s.reused = static_cast<int64_t>(best_keep);
    s.decoding = false;
    s.next = -1;
    s.sampler.emplace(in.sampling);
    s.detok.emplace(tokenizer_, /*special=*/false, /*strip_space_prefix=*/false);
    s.stops.emplace(in.stop_strings);
    s.generated = 0;
    s.job = std::move(job);
    s.last_use = ++use_clock_;
    ++active_;
    if (metrics_ != nullptr)
      metrics_->add_prompt_tokens(static_cast<int64_t>(prompt.size() - best_keep), static_cast<int64_t>(best_keep));
  }
}

void Scheduler::finish_slot(Slot& slot, FinishReason reason, std::string error) {
  Job& job = *slot.job;
  if (reason == FinishReason::kStop || reason == FinishReason::kLength) {
    // Text held back (part of a character, a possible stop string) belongs to the reply after all.
    std::string tail = slot.stops->push(slot.detok->finish());
    tail += slot.stops->finish();
    if (!tail.empty())
      job.emit(GeneratedToken{.id = -1, .text = std::move(tail), .logprob = 0, .top = {}, .routing = {}});
  }
  JobResult r;
  r.reason = reason;
  r.error = std::move(error);
  r.prompt_tokens = static_cast<int64_t>(job.input().prompt.size());
  r.reused_tokens = slot.reused;
  r.completion_tokens = slot.generated;
  r.load = slot.recorder->take_load();
  slot.recorder->start(false, false);
  if (reason == FinishReason::kError) slot.seq->reset();  // what it holds is not known to be whole
  if (metrics_ != nullptr) {
    metrics_->add_generated_tokens(slot.generated);
    metrics_->count_finish(finish_reason_name(reason));
  }
  job.finish(std::move(r));
  slot.job.reset();
  slot.last_use = ++use_clock_;
  {
    std::lock_guard lock(mu_);
    --active_;
    publish_stats_locked();
    if (active_ == 0 && queue_.empty()) idle_cv_.notify_all();
  }
}

// After a step in which the slot took part: either more of its prompt is in, or it has logits to sample from.
void Scheduler::after_step(Slot& s) {
  const JobInput& in = s.job->input();
  if (!s.decoding) {
    s.prompt_done += s.step_tokens.size();
    if (s.prompt_done < in.prompt.size()) return;
    s.decoding = true;
  }
  const auto n_vocab = static_cast<size_t>(engine_.n_vocab());
  const std::span<const float> all = s.seq->logits();
  const std::span<const float> logits = all.subspan(all.size() - n_vocab, n_vocab);
  const int32_t token = s.sampler->sample(logits, s.seq->history());
  const auto now = Clock::now();
  if (metrics_ != nullptr) {
    if (s.generated == 0)
      metrics_->observe_ttft(seconds_between(in.arrival, now));
    else
      metrics_->observe_inter_token(seconds_between(s.last_token, now));
  }
  s.last_token = now;
  if (std::find(in.stop_tokens.begin(), in.stop_tokens.end(), token) != in.stop_tokens.end()) {
    finish_slot(s, FinishReason::kStop);
    return;
  }
  ++s.generated;
  GeneratedToken g;
  g.id = token;
  g.text = s.stops->push(s.detok->push(token));
  if (in.logprobs) fill_logprobs(logits, token, in.top_logprobs, g);
  if (in.routing_per_token) g.routing = s.recorder->last();
  s.job->emit(std::move(g));
  if (s.stops->matched()) {
    finish_slot(s, FinishReason::kStop);
  } else if ((in.max_tokens >= 0 && s.generated >= in.max_tokens) || s.seq->pos() >= s.seq->n_ctx()) {
    finish_slot(s, FinishReason::kLength);
  } else {
    s.next = token;
  }
}

void Scheduler::run() {
  std::vector<runtime::Engine::Step> batch;
  std::vector<Slot*> members;
  while (true) {
    {
      std::unique_lock lock(mu_);
      // Queued jobs whose client left or whose time ran out never take a slot.
      const auto now = Clock::now();
      for (auto it = queue_.begin(); it != queue_.end();) {
        Job& j = **it;
        if (j.cancelled() || now >= j.input().deadline) {
          JobResult r;
          r.reason = j.cancelled() ? FinishReason::kCancelled : FinishReason::kTimeout;
          r.prompt_tokens = static_cast<int64_t>(j.input().prompt.size());
          if (metrics_ != nullptr) metrics_->count_finish(finish_reason_name(r.reason));
          j.finish(std::move(r));
          it = queue_.erase(it);
        } else {
          ++it;
        }
      }
      if (stopping_) break;
      admit_locked();
      publish_stats_locked();
      if (active_ == 0) {
        if (queue_.empty()) idle_cv_.notify_all();
        // The timeout lets queued deadlines be checked even when nothing else happens.
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        continue;
      }
    }
    const auto now = Clock::now();
    for (auto& s : slots_) {
      if (!s->job) continue;
      if (s->job->cancelled())
        finish_slot(*s, FinishReason::kCancelled);
      else if (now >= s->job->input().deadline)
        finish_slot(*s, FinishReason::kTimeout);
    }

    batch.clear();
    members.clear();
    const bool anyone_decoding =
        std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->job && s->decoding; });
    int64_t budget = anyone_decoding ? options_.prefill_chunk_decoding : options_.prefill_chunk;
    for (auto& s : slots_) {
      if (!s->job) continue;
      if (s->decoding) {
        s->step_tokens.assign(1, s->next);
      } else {
        const auto& prompt = s->job->input().prompt;
        const int64_t n = std::min<int64_t>(static_cast<int64_t>(prompt.size() - s->prompt_done), budget);
        if (n <= 0) continue;
        budget -= n;
        s->step_tokens.assign(prompt.begin() + static_cast<std::ptrdiff_t>(s->prompt_done),
                              prompt.begin() + static_cast<std::ptrdiff_t>(s->prompt_done + static_cast<size_t>(n)));
      }
      s->recorder->begin_step();
      batch.push_back({.sequence = s->seq.get(), .tokens = s->step_tokens, .logits = runtime::Engine::Logits::kLast});
      members.push_back(s.get());
    }
    if (batch.empty()) continue;
    if (auto st = engine_.step(batch); !st) {
      for (Slot* s : members) finish_slot(*s, FinishReason::kError, st.error().message);
      continue;
    }
    if (metrics_ != nullptr) {
      int64_t tokens = 0;
      for (const auto& b : batch) tokens += static_cast<int64_t>(b.tokens.size());
      metrics_->observe_step(tokens, static_cast<int32_t>(batch.size()));
    }
    for (Slot* s : members) after_step(*s);
  }
  // Stopping: every job still here ends now.
  for (auto& s : slots_)
    if (s->job) finish_slot(*s, FinishReason::kShutdown);
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(queue_);
    publish_stats_locked();
  }
  for (auto& j : left) {
    JobResult r;
    r.reason = FinishReason::kShutdown;
    j->finish(std::move(r));
  }
  idle_cv_.notify_all();
}

}  // namespace sy::server
