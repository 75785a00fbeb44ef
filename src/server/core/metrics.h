// The server's counters, gauges and histograms, rendered as Prometheus text (GET /metrics; names and meanings in
// docs/server.md). A composition (several models) labels what is per model with model="NAME" (expert loads,
// requests, loads and unloads) and sums the scheduler gauges over its models; one model (serve -m) has no label.
// Thread-safe: the scheduler thread and the HTTP threads update it, /metrics reads it; every member is guarded by one
// mutex (updates are a few per token, far from contended at CPU decode speeds).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sy::server {

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // counts_[i]: observations <= bounds_[i] and > bounds_[i-1]; last: +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  // One model, unlabelled: n_expert[l] is the experts of block l (0 for a dense block).
  explicit Metrics(std::vector<int32_t> n_expert);
  // A composition: one row per model (index = the model pool's), labelled with its name.
  struct ModelRow {
    std::string name;
    std::vector<int32_t> n_expert;
  };
  Metrics(std::vector<ModelRow> models, uint64_t budget_bytes);

  void count_request(const std::string& endpoint, int status);
  void count_finish(const char* reason);  // a generation ended: stop, length, cancelled, timeout, error, shutdown
  void add_prompt_tokens(int64_t evaluated, int64_t reused);
  void add_generated_tokens(int64_t n);
  void observe_ttft(double seconds);
  void observe_inter_token(double seconds);
  void observe_step(int64_t tokens, int32_t sequences);
  void add_expert_load(int32_t layer, const int32_t* ids, size_t n) { add_expert_load(0, layer, ids, n); }
  // ids may hold kNoExpert (-1): skipped. `model`: the row.
  void add_expert_load(size_t model, int32_t layer, const int32_t* ids, size_t n);
  void set_scheduler(int64_t queued, int64_t active, int64_t slots) { set_scheduler(0, queued, active, slots); }
  void set_scheduler(size_t model, int64_t queued, int64_t active, int64_t slots);

  // Compositions only. `routed`: chosen by the router (model "auto" or none) rather than named.
  void count_model_request(size_t model, bool routed);
  void observe_model_load(size_t model, double seconds, uint64_t bytes);
  void count_model_load_failure(size_t model);
  void count_model_unload(size_t model, uint64_t bytes);

  struct SchedulerGauges {
    int64_t queued = 0, active = 0, slots = 0;
  };
  SchedulerGauges scheduler() const;  // summed over the models
  std::string render() const;

 private:
  struct Row {
    std::string name;  // empty: the one model of serve -m (no label)
    std::vector<int32_t> n_expert;
    std::vector<std::vector<uint64_t>> expert_load;  // [layer][expert]
    SchedulerGauges gauges;
    uint64_t requests_routed = 0, requests_named = 0, loads = 0, load_failures = 0, unloads = 0;
    bool loaded = false;
  };
  void render_composition(std::string& out) const;

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> finished_;
  uint64_t prompt_tokens_ = 0, prompt_tokens_reused_ = 0, generated_tokens_ = 0, steps_ = 0, step_tokens_ = 0;
  Histogram ttft_, inter_token_, batch_sequences_;
  std::vector<Row> rows_;
  bool composition_ = false;
  uint64_t budget_bytes_ = 0, loaded_bytes_ = 0;
  Histogram load_seconds_;
};

}  // namespace sy::server
