// The models a server answers with (one for `serve -m`, several for a composition: issue 16), each loaded when a
// request first needs it and kept while a memory budget allows. Over budget, the least recently used model that
// serves no request is unloaded (its scheduler drained and stopped, its engine, expert cache, KV caches and file
// mapping released) before the next one loads. docs/server.md, "Compositions".
//
//   auto infos = inspect_models(composition.models, options);     // start-up: every file opened and checked
//   ModelPool pool(std::move(*infos), options);                     // starts the loader thread
//   auto lease = pool.acquire(index, deadline);                     // waits for a load; the model stays while held
//   lease->scheduler->submit(job);
//
// What counts against the budget (PoolModelInfo::footprint_bytes, measured when the model is inspected): the
// bytes of the mapped file (less the routed experts when an expert cache serves them, plus that cache's slot
// pool) and the KV caches of every sequence slot at the full context. Activations and scratch are not counted.
//
// Loading runs on the pool's own loader thread, one model at a time, so concurrent requests for a model that is
// not loaded share one load. A request that needs a model waits for it (bounded by its deadline): for its load,
// and, when every loaded model is busy and the budget is full, for the least recently used one to drain (new
// requests for a draining model wait too, so a busy model cannot starve the others).
//
// Thread-safety: acquire, stats, close, wait_idle and stop from any thread; a lease's model is immutable while
// it is held (its scheduler is thread-safe).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coe/composition.h"
#include "core/error.h"
#include "model/model.h"
#include "runtime/engine.h"
#include "server/core/api_error.h"
#include "server/core/metrics.h"
#include "server/core/prepare.h"
#include "server/core/scheduler.h"
#include "tokenizer/tokenizer.h"

namespace sy::server {

// Configures a new engine (routing options, expert cache) before it serves; applied to every model's engine.
using EngineSetup = std::function<Status(runtime::Engine& engine)>;

struct ModelPoolOptions {
  uint64_t budget_bytes = 0;   // 0: no limit
  int n_threads = 1;           // each engine's threads
  SchedulerOptions scheduler;  // per model; n_ctx 0 (or above a model's training context): the training context
  std::string chat_template;   // source text used instead of each model's own; empty: the model's
  EngineSetup setup;           // may be empty
};

// What the pool knows of a model without holding it loaded (read when it is inspected at start-up).
struct PoolModelInfo {
  std::string name;  // the id requests and /v1/models use
  std::filesystem::path path;
  std::string description;
  std::vector<std::string> categories;
  int64_t n_ctx = 0;                                       // per sequence slot
  int64_t n_vocab = 0;                                     // the tokenizer's
  std::vector<int32_t> n_expert;                           // per block (0: dense), for /metrics
  uint64_t footprint_bytes = 0;                            // what it counts against the budget while loaded (see above)
  uint64_t file_bytes = 0, kv_bytes = 0, cache_bytes = 0;  // the parts of the footprint
  // serve -m: the model the caller already loaded; the pool serves it and never unloads it.
  const model::Model* borrowed_model = nullptr;
  const tok::Tokenizer* borrowed_tokenizer = nullptr;
};

// Opens every model (a regular file, GGUF metadata and tensor table, tokenizer, chat template, the engine setup)
// and measures what it would hold in memory; nothing stays loaded. Fails naming the model and its path: a missing
// file, a directory or FIFO, a truncated or non-GGUF file; and a model whose footprint exceeds a non-zero budget
// (naming both sizes).
Result<std::vector<PoolModelInfo>> inspect_models(const std::vector<coe::ModelEntry>& models,
                                                  const ModelPoolOptions& options);
// The same for a model the caller loaded (serve -m).
Result<PoolModelInfo> inspect_borrowed_model(const model::Model& model, const tok::Tokenizer& tokenizer,
                                             std::string name, const ModelPoolOptions& options);

// One model ready to serve. Destroyed in reverse order: the scheduler (joined), then the engine (its expert
// cache), the context, the tokenizer and the model (its mapping).
struct LoadedModel {
  std::unique_ptr<model::Model> owned_model;
  std::unique_ptr<tok::Tokenizer> owned_tokenizer;
  const model::Model* model = nullptr;
  const tok::Tokenizer* tokenizer = nullptr;
  std::unique_ptr<runtime::Engine> engine;
  ModelContext ctx;
  std::unique_ptr<Scheduler> scheduler;
  ~LoadedModel();
};

class ModelPool;

// Holds a loaded model: it is not unloaded while a lease on it exists. Move-only.
class ModelLease {
 public:
  ModelLease() = default;
  ModelLease(ModelLease&& o) noexcept { *this = std::move(o); }
  ModelLease& operator=(ModelLease&& o) noexcept;
  ModelLease(const ModelLease&) = delete;
  ModelLease& operator=(const ModelLease&) = delete;
  ~ModelLease() { reset(); }

  void reset();
  explicit operator bool() const { return model_ != nullptr; }
  LoadedModel* operator->() const { return model_; }
  size_t index() const { return index_; }
  // How long the load this request waited for took; 0 when the model was already loaded.
  double load_seconds() const { return load_seconds_; }

 private:
  friend class ModelPool;
  ModelPool* pool_ = nullptr;
  size_t index_ = 0;
  LoadedModel* model_ = nullptr;
  double load_seconds_ = 0;
};

class ModelPool {
 public:
  // metrics (may be nullptr) must outlive the pool; its model rows are the infos' indices.
  ModelPool(std::vector<PoolModelInfo> models, ModelPoolOptions options, Metrics* metrics);
  ~ModelPool();
  ModelPool(const ModelPool&) = delete;
  ModelPool& operator=(const ModelPool&) = delete;

  const std::vector<PoolModelInfo>& models() const { return infos_; }
  uint64_t budget_bytes() const { return options_.budget_bytes; }
  // The index of a model by name; -1 when none has it.
  int64_t find(std::string_view name) const;

  // Loads a model now, on the calling thread (start-up: a borrowed model, or preloading).
  Status preload(size_t index);

  // The model, loaded: at once when it is, else after its load (and whatever unloading makes room). Errors: 503
  // `timeout` when the deadline passes first, 503 `shutting_down` after close(), 500 when the load fails.
  ApiResult<ModelLease> acquire(size_t index, std::chrono::steady_clock::time_point deadline);

  struct Stats {
    int64_t queued = 0, active = 0, slots = 0;  // summed over the loaded models' schedulers
    uint64_t loaded_bytes = 0;
    int64_t loaded = 0, loads = 0, unloads = 0;
  };
  Stats stats() const;
  bool is_loaded(size_t index) const;

  // Shutdown: no new leases or loads (acquire says shutting_down), every loaded scheduler closed; then
  // wait_idle waits for their jobs (at most `limit`; true when idle) and stop() ends what is left and joins the
  // loader. Idempotent.
  void close();
  bool wait_idle(std::chrono::milliseconds limit);
  void stop();

 private:
  friend class ModelLease;
  enum class State { kUnloaded, kLoading, kLoaded, kUnloading };
  struct Entry {
    State state = State::kUnloaded;
    std::unique_ptr<LoadedModel> loaded;
    bool draining = false;  // loaded, but new leases wait: it is to be unloaded for another model
    int64_t users = 0;      // leases held
    int64_t waiters = 0;    // acquire() calls waiting for it
    uint64_t want_since = 0;
    uint64_t last_use = 0;
    uint64_t load_epoch = 0, fail_epoch = 0;
    double last_load_seconds = 0;
    std::string last_error;
  };

  Result<std::unique_ptr<LoadedModel>> load(size_t index);
  void unload_locked(std::unique_lock<std::mutex>& lock, size_t index);
  void release(size_t index);
  void loader();
  void set_gauges_locked();

  std::vector<PoolModelInfo> infos_;
  ModelPoolOptions options_;
  Metrics* metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // any change of an entry, a waiter, close
  std::vector<Entry> entries_;
  uint64_t loaded_bytes_ = 0;  // footprints of the models loading or loaded
  uint64_t clock_ = 0;
  int64_t loads_ = 0, unloads_ = 0;
  bool closed_ = false;
  bool stopping_ = false;
  std::thread loader_;
};

}  // namespace sy::server
