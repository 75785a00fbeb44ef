#include "server/core/model_pool.h"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <limits>
#include <system_error>

#include "model/kv_cache.h"
#include "moe/cache/slab_cache_store.h"

namespace sy::server {
namespace {

using Clock = std::chrono::steady_clock;

// How long the loader waits before looking again when it must wait for a busy model to drain (waiters whose
// deadline passed leave without notifying it).
constexpr auto kLoaderPoll = std::chrono::milliseconds(50);
// A model to unload has no lease, so at most a cancelled job is left in its scheduler: it ends within a step.
constexpr auto kUnloadDrain = std::chrono::seconds(30);

std::string human_bytes(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1 << 30));
  if (bytes >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{} bytes", bytes);
}

// A slot's context: the option, capped at the model's training context (0: the training context, or 4096 for a
// model that does not say).
int64_t slot_context(const model::Model& model, int64_t asked) {
  const int64_t train = model.config().common.n_ctx_train;
  if (asked <= 0) return train > 0 ? train : 4096;
  return train > 0 ? std::min(asked, train) : asked;
}

// The KV cache of one sequence at its full context (it grows on demand up to that).
uint64_t kv_bytes_full(const model::Model& model, int64_t n_ctx) {
  model::KvCache cache(model.config(), n_ctx);
  uint64_t per_position = 0;
  for (size_t il = 0; il < model.config().layers.size(); ++il) {
    const model::LayerCache& l = cache.layer(il);
    per_position += static_cast<uint64_t>(l.k_width + l.v_width) * sizeof(float);
  }
  return per_position * static_cast<uint64_t>(cache.n_ctx());
}

// Builds the engine, applies the setup and the context: what both inspecting and loading do.
struct Built {
  std::unique_ptr<runtime::Engine> engine;
  ModelContext ctx;
};
Result<Built> build(const model::Model& model, const tok::Tokenizer& tokenizer, const std::string& name,
                    const ModelPoolOptions& options) {
  Built b;
  b.engine = std::make_unique<runtime::Engine>(model, runtime::EngineOptions{.n_threads = options.n_threads});
  if (options.setup)
    if (auto s = options.setup(*b.engine); !s) return tl::unexpected(s.error());
  const int64_t n_ctx = slot_context(model, options.scheduler.n_ctx);
  auto ctx = make_model_context(model, tokenizer, name, n_ctx, options.chat_template);
  if (!ctx) return tl::unexpected(ctx.error());
  b.ctx = std::move(*ctx);
  return b;
}

// What a built model holds in memory (model_pool.h): the file, less the experts a cache serves plus its pool,
// and every slot's KV cache at the full context.
void measure(const model::Model& model, runtime::Engine& engine, const ModelPoolOptions& options, PoolModelInfo& info) {
  info.file_bytes = model.file().file_size();
  info.cache_bytes = 0;
  if (const auto* cache = dynamic_cast<const moe::SlabCacheStore*>(&engine.expert_store())) {
    info.file_bytes -= std::min(info.file_bytes, moe::routed_expert_bytes(model.expert_table()));
    info.cache_bytes = static_cast<uint64_t>(cache->n_slots()) * cache->slot_bytes();
  }
  const int64_t n_ctx = slot_context(model, options.scheduler.n_ctx);
  info.kv_bytes = kv_bytes_full(model, n_ctx) * static_cast<uint64_t>(std::max(1, options.scheduler.n_slots));
  info.footprint_bytes = info.file_bytes + info.cache_bytes + info.kv_bytes;
  info.n_ctx = n_ctx;
  info.n_expert.clear();
  for (const auto& l : model.config().layers)
    info.n_expert.push_back(l.ffn.kind == model::FfnKind::kMoe ? l.ffn.moe.routing.n_expert : 0);
}

// A model file must be a regular file: say what it is instead (mmap's own error for a directory is obscure).
Status check_regular_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || st.type() == std::filesystem::file_type::not_found)
    return fail(ErrorCode::kIo, "no such file{}",
                ec && ec != std::errc::no_such_file_or_directory ? fmt::format(" ({})", ec.message()) : std::string());
  if (st.type() == std::filesystem::file_type::directory) return fail(ErrorCode::kInvalidInput, "is a directory");
  if (st.type() != std::filesystem::file_type::regular)
    return fail(ErrorCode::kInvalidInput, "is not a regular file (a FIFO, socket or device)");
  return {};
}

Error named(const coe::ModelEntry& m, const Error& e) {
  return Error{e.code, fmt::format("model '{}' ({}): {}", m.name, m.path.string(), e.message)};
}

}  // namespace

Result<std::vector<PoolModelInfo>> inspect_models(const std::vector<coe::ModelEntry>& models,
                                                  const ModelPoolOptions& options) {
  std::vector<PoolModelInfo> infos;
  for (const coe::ModelEntry& m : models) {
    if (auto s = check_regular_file(m.path); !s) return tl::unexpected(named(m, s.error()));
    auto model = model::Model::open(m.path);
    if (!model) return tl::unexpected(named(m, model.error()));
    auto tokenizer = tok::Tokenizer::from_gguf((*model)->file());
    if (!tokenizer) return tl::unexpected(named(m, tokenizer.error()));
    auto built = build(**model, *tokenizer, m.name, options);
    if (!built) return tl::unexpected(named(m, built.error()));
    PoolModelInfo info;
    info.name = m.name;
    info.path = m.path;
    info.description = m.description;
    info.categories = m.categories;
    measure(**model, *built->engine, options, info);
    info.n_vocab = static_cast<int64_t>(tokenizer->size());
    if (options.budget_bytes > 0 && info.footprint_bytes > options.budget_bytes)
      return tl::unexpected(named(
          m, Error{ErrorCode::kInvalidInput,
                   fmt::format("needs {} ({} of file, {} of KV cache for {} slots of {} tokens{}), more than the "
                               "whole budget of {}",
                               human_bytes(info.footprint_bytes), human_bytes(info.file_bytes),
                               human_bytes(info.kv_bytes), options.scheduler.n_slots, info.n_ctx,
                               info.cache_bytes > 0 ? fmt::format(", {} of expert cache", human_bytes(info.cache_bytes))
                                                    : std::string(),
                               human_bytes(options.budget_bytes))}));
    infos.push_back(std::move(info));
  }
  return infos;
}

Result<PoolModelInfo> inspect_borrowed_model(const model::Model& model, const tok::Tokenizer& tokenizer,
                                             std::string name, const ModelPoolOptions& options) {
  PoolModelInfo info;
  info.name = std::move(name);
  info.path = model.path();
  info.borrowed_model = &model;
  info.borrowed_tokenizer = &tokenizer;
  // The engine is built once, when the pool preloads it: measured from the model alone here.
  info.file_bytes = model.file().file_size();
  info.n_ctx = slot_context(model, options.scheduler.n_ctx);
  info.n_vocab = static_cast<int64_t>(tokenizer.size());
  info.kv_bytes = kv_bytes_full(model, info.n_ctx) * static_cast<uint64_t>(std::max(1, options.scheduler.n_slots));
  info.footprint_bytes = info.file_bytes + info.kv_bytes;
  for (const auto& l : model.config().layers)
    info.n_expert.push_back(l.ffn.kind == model::FfnKind::kMoe ? l.ffn.moe.routing.n_expert : 0);
  return info;
}

LoadedModel::~LoadedModel() {
  if (scheduler) scheduler->stop();
  scheduler.reset();
  engine.reset();
}

ModelLease& ModelLease::operator=(ModelLease&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = std::exchange(o.pool_, nullptr);
    index_ = o.index_;
    model_ = std::exchange(o.model_, nullptr);
    load_seconds_ = o.load_seconds_;
  }
  return *this;
}

void ModelLease::reset() {
  if (pool_ != nullptr) pool_->release(index_);
  pool_ = nullptr;
  model_ = nullptr;
}

ModelPool::ModelPool(std::vector<PoolModelInfo> models, ModelPoolOptions options, Metrics* metrics)
    : infos_(std::move(models)), options_(std::move(options)), metrics_(metrics), entries_(infos_.size()) {
  loader_ = std::thread([this] { loader(); });
}

ModelPool::~ModelPool() {
  stop();
  std::unique_lock lock(mu_);
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].state == State::kLoaded) unload_locked(lock, i);
}

int64_t ModelPool::find(std::string_view name) const {
  for (size_t i = 0; i < infos_.size(); ++i)
    if (infos_[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

Result<std::unique_ptr<LoadedModel>> ModelPool::load(size_t index) {
  const PoolModelInfo& info = infos_[index];
  auto m = std::make_unique<LoadedModel>();
  if (info.borrowed_model != nullptr) {
    m->model = info.borrowed_model;
    m->tokenizer = info.borrowed_tokenizer;
  } else {
    // The file was checked at start-up; it may have changed since, so every failure still names it.
    auto model = model::Model::open(info.path);
    if (!model)
      return fail(model.error().code, "model '{}' ({}): {}", info.name, info.path.string(), model.error().message);
    m->owned_model = std::move(*model);
    auto tokenizer = tok::Tokenizer::from_gguf(m->owned_model->file());
    if (!tokenizer)
      return fail(tokenizer.error().code, "model '{}' ({}): {}", info.name, info.path.string(),
                  tokenizer.error().message);
    m->owned_tokenizer = std::make_unique<tok::Tokenizer>(std::move(*tokenizer));
    m->model = m->owned_model.get();
    m->tokenizer = m->owned_tokenizer.get();
  }
  auto built = build(*m->model, *m->tokenizer, info.name, options_);
  if (!built) {
    // serve -m says what it always said; a composition names the model.
    if (info.borrowed_model != nullptr) return tl::unexpected(built.error());
    return fail(built.error().code, "model '{}': {}", info.name, built.error().message);
  }
  m->engine = std::move(built->engine);
  m->ctx = std::move(built->ctx);
  SchedulerOptions so = options_.scheduler;
  so.n_ctx = m->ctx.n_ctx;
  m->scheduler = std::make_unique<Scheduler>(*m->engine, *m->tokenizer, so, metrics_, index);
  return m;
}

Status ModelPool::preload(size_t index) {
  std::unique_lock lock(mu_);
  Entry& e = entries_[index];
  if (e.state == State::kLoaded) return {};
  if (e.state != State::kUnloaded)
    return fail(ErrorCode::kInvalidInput, "model '{}' is being loaded", infos_[index].name);
  const uint64_t need = infos_[index].footprint_bytes;
  e.state = State::kLoading;
  loaded_bytes_ += need;
  lock.unlock();
  const auto start = Clock::now();
  auto loaded = load(index);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  lock.lock();
  if (!loaded) {
    e.state = State::kUnloaded;
    loaded_bytes_ -= need;
    cv_.notify_all();
    return tl::unexpected(loaded.error());
  }
  e.loaded = std::move(*loaded);
  e.state = State::kLoaded;
  e.last_use = ++clock_;
  e.last_load_seconds = seconds;
  ++e.load_epoch;
  ++loads_;
  if (metrics_ != nullptr) metrics_->observe_model_load(index, seconds, need);
  cv_.notify_all();
  return {};
}

ApiResult<ModelLease> ModelPool::acquire(size_t index, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  Entry& e = entries_[index];
  const uint64_t fail_epoch = e.fail_epoch;
  const uint64_t load_epoch = e.load_epoch;
  bool waiting = false;
  auto stop_waiting = [&] {
    if (waiting && --e.waiters == 0) cv_.notify_all();
    waiting = false;
  };
  while (!(e.state == State::kLoaded && !e.draining)) {
    if (closed_) {
      stop_waiting();
      return tl::unexpected(ApiError{.status = 503,
                                     .type = "server_error",
                                     .message = "the server is shutting down",
                                     .param = {},
                                     .code = "shutting_down"});
    }
    if (e.fail_epoch != fail_epoch) {
      stop_waiting();
      return tl::unexpected(ApiError{.status = 500,
                                     .type = "server_error",
                                     .message = fmt::format("loading failed: {}", e.last_error),
                                     .param = "model",
                                     .code = {}});
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      stop_waiting();
      return tl::unexpected(ApiError{.status = 503,
                                     .type = "server_error",
                                     .message = fmt::format("the request timed out waiting for model '{}' to load "
                                                            "(serve --timeout)",
                                                            infos_[index].name),
                                     .param = {},
                                     .code = "timeout"});
    }
    if (!waiting) {
      waiting = true;
      if (e.waiters++ == 0) e.want_since = ++clock_;
      cv_.notify_all();  // the loader
    }
    // Bounded, so a deadline of time_point::max() never reaches the clock conversion.
    cv_.wait_until(lock, std::min(deadline, now + std::chrono::seconds(1)));
  }
  stop_waiting();
  ++e.users;
  e.last_use = ++clock_;
  ModelLease lease;
  lease.pool_ = this;
  lease.index_ = index;
  lease.model_ = e.loaded.get();
  lease.load_seconds_ = e.load_epoch != load_epoch ? e.last_load_seconds : 0;
  return lease;
}

void ModelPool::release(size_t index) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[index];
  --e.users;
  e.last_use = ++clock_;
  if (e.users == 0) cv_.notify_all();
}

// Drains and destroys a loaded model with no lease. Called with the lock held; releases it meanwhile (the state
// kUnloading keeps everyone else away).
void ModelPool::unload_locked(std::unique_lock<std::mutex>& lock, size_t index) {
  Entry& e = entries_[index];
  e.state = State::kUnloading;
  std::unique_ptr<LoadedModel> m = std::move(e.loaded);
  lock.unlock();
  if (m && m->scheduler) {
    m->scheduler->close();
    m->scheduler->wait_idle(kUnloadDrain);
    m->scheduler->stop();
  }
  m.reset();
  // Freed KV caches and scratch go back to the system, not only to malloc's free lists.
  malloc_trim(0);
  if (metrics_ != nullptr) {
    metrics_->set_scheduler(index, 0, 0, 0);
    metrics_->count_model_unload(index, infos_[index].footprint_bytes);
  }
  lock.lock();
  loaded_bytes_ -= std::min(loaded_bytes_, infos_[index].footprint_bytes);
  e.state = State::kUnloaded;
  e.draining = false;
  ++unloads_;
  cv_.notify_all();
}

void ModelPool::loader() {
  std::unique_lock lock(mu_);
  while (!closed_) {
    // The model wanted longest: a waiter and not loaded (a draining model's waiters wait for its reload).
    size_t target = entries_.size();
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.waiters > 0 && e.state == State::kUnloaded &&
          (target == entries_.size() || e.want_since < entries_[target].want_since))
        target = i;
    }
    if (target == entries_.size()) {
      // Nobody waits for a model to be loaded: a model draining for one is not needed any more.
      for (Entry& e : entries_)
        if (e.draining) {
          e.draining = false;
          cv_.notify_all();
        }
      cv_.wait(lock);
      continue;
    }
    const uint64_t need = infos_[target].footprint_bytes;
    const uint64_t budget = options_.budget_bytes;
    if (budget > 0 && loaded_bytes_ + need > budget) {
      // Room first: the least recently used loaded model without a lease goes; not one whose waiters are about
      // to take it (just loaded for them), unless it is draining (its waiters wait for a later reload).
      size_t victim = entries_.size();
      for (size_t i = 0; i < entries_.size(); ++i) {
        const Entry& e = entries_[i];
        if (e.state == State::kLoaded && e.users == 0 && (e.draining || e.waiters == 0) &&
            infos_[i].borrowed_model == nullptr &&
            (victim == entries_.size() || e.last_use < entries_[victim].last_use))
          victim = i;
      }
      if (victim != entries_.size()) {
        unload_locked(lock, victim);
        continue;
      }
      // Every loaded model is busy (or about to be): the least recently used busy one takes no new requests until
      // it has drained.
      bool any_draining = false;
      for (const Entry& e : entries_) any_draining = any_draining || e.draining;
      if (!any_draining) {
        size_t lru = entries_.size();
        for (size_t i = 0; i < entries_.size(); ++i) {
          const Entry& e = entries_[i];
          if (e.state == State::kLoaded && e.users > 0 && infos_[i].borrowed_model == nullptr &&
              (lru == entries_.size() || e.last_use < entries_[lru].last_use))
            lru = i;
        }
        if (lru != entries_.size()) entries_[lru].draining = true;
      }
      cv_.wait_for(lock, kLoaderPoll);
      continue;
    }
    Entry& e = entries_[target];
    e.state = State::kLoading;
    loaded_bytes_ += need;
    lock.unlock();
    const auto start = Clock::now();
    auto loaded = load(target);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!loaded) {
      fmt::print(stderr, "serve: {}\n", loaded.error().message);
      if (metrics_ != nullptr) metrics_->count_model_load_failure(target);
    } else if (metrics_ != nullptr) {
      metrics_->observe_model_load(target, seconds, need);
    }
    lock.lock();
    if (!loaded) {
      loaded_bytes_ -= need;
      e.state = State::kUnloaded;
      e.last_error = loaded.error().message;
      ++e.fail_epoch;
    } else {
      e.loaded = std::move(*loaded);
      e.state = State::kLoaded;
      e.last_use = ++clock_;
      e.last_load_seconds = seconds;
      ++e.load_epoch;
      ++loads_;
      if (closed_) e.loaded->scheduler->close();  // close() came during the load
    }
    cv_.notify_all();
  }
}

ModelPool::Stats ModelPool::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  for (const Entry& e : entries_) {
    if (e.state != State::kLoaded || !e.loaded) continue;
    const auto st = e.loaded->scheduler->stats();
    s.queued += st.queued;
    s.active += st.active;
    s.slots += st.slots;
    ++s.loaded;
  }
  s.loaded_bytes = loaded_bytes_;
  s.loads = loads_;
  s.unloads = unloads_;
  return s;
}

bool ModelPool::is_loaded(size_t index) const {
  std::lock_guard lock(mu_);
  return entries_[index].state == State::kLoaded;
}

void ModelPool::close() {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  for (Entry& e : entries_)
    if (e.state == State::kLoaded && e.loaded) e.loaded->scheduler->close();
  cv_.notify_all();
}

bool ModelPool::wait_idle(std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  // The loader finishes a load it started (its scheduler is then closed by stop()); wait for each scheduler.
  std::vector<Scheduler*> schedulers;
  {
    std::lock_guard lock(mu_);
    for (Entry& e : entries_)
      if (e.state == State::kLoaded && e.loaded) schedulers.push_back(e.loaded->scheduler.get());
  }
  bool idle = true;
  for (Scheduler* s : schedulers) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    idle = s->wait_idle(std::max(left, std::chrono::milliseconds(0))) && idle;
  }
  return idle;
}

void ModelPool::stop() {
  close();
  if (loader_.joinable()) loader_.join();
  std::lock_guard lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  for (Entry& e : entries_)
    if (e.state == State::kLoaded && e.loaded) e.loaded->scheduler->stop();
}

}  // namespace sy::server
