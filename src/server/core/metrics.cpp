#include "server/core/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace sy::server {

void Histogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  cumulative += counts_.back();
  out +=
      fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, cumulative, name, sum_, name, count_);
}

namespace {

std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

}  // namespace

Metrics::Metrics(std::vector<int32_t> n_expert) : Metrics({ModelRow{.name = {}, .n_expert = std::move(n_expert)}}, 0) {
  composition_ = false;
}

Metrics::Metrics(std::vector<ModelRow> models, uint64_t budget_bytes)
    : ttft_(latency_bounds()),
      inter_token_(latency_bounds()),
      batch_sequences_({1, 2, 4, 8, 16, 32, 64}),
      composition_(true),
      budget_bytes_(budget_bytes),
      load_seconds_({0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}) {
  for (auto& m : models) {
    Row row;
    row.name = std::move(m.name);
    row.n_expert = std::move(m.n_expert);
    for (const int32_t e : row.n_expert) row.expert_load.emplace_back(static_cast<size_t>(std::max(0, e)), 0);
    rows_.push_back(std::move(row));
  }
}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_finish(const char* reason) {
  std::lock_guard lock(mu_);
  ++finished_[reason];
}

void Metrics::add_prompt_tokens(int64_t evaluated, int64_t reused) {
  std::lock_guard lock(mu_);
  prompt_tokens_ += static_cast<uint64_t>(evaluated);
  prompt_tokens_reused_ += static_cast<uint64_t>(reused);
}

void Metrics::add_generated_tokens(int64_t n) {
  std::lock_guard lock(mu_);
  generated_tokens_ += static_cast<uint64_t>(n);
}

void Metrics::observe_ttft(double seconds) {
  std::lock_guard lock(mu_);
  ttft_.observe(seconds);
}

void Metrics::observe_inter_token(double seconds) {
  std::lock_guard lock(mu_);
  inter_token_.observe(seconds);
}

void Metrics::observe_step(int64_t tokens, int32_t sequences) {
  std::lock_guard lock(mu_);
  ++steps_;
  step_tokens_ += static_cast<uint64_t>(tokens);
  batch_sequences_.observe(sequences);
}

void Metrics::add_expert_load(size_t model, int32_t layer, const int32_t* ids, size_t n) {
  std::lock_guard lock(mu_);
  if (model >= rows_.size()) return;
  auto& load = rows_[model].expert_load;
  if (layer < 0 || static_cast<size_t>(layer) >= load.size()) return;
  auto& row = load[static_cast<size_t>(layer)];
  for (size_t i = 0; i < n; ++i)
    if (ids[i] >= 0 && static_cast<size_t>(ids[i]) < row.size()) ++row[static_cast<size_t>(ids[i])];
}

void Metrics::set_scheduler(size_t model, int64_t queued, int64_t active, int64_t slots) {
  std::lock_guard lock(mu_);
  if (model < rows_.size()) rows_[model].gauges = {queued, active, slots};
}

void Metrics::count_model_request(size_t model, bool routed) {
  std::lock_guard lock(mu_);
  if (model >= rows_.size()) return;
  ++(routed ? rows_[model].requests_routed : rows_[model].requests_named);
}

void Metrics::observe_model_load(size_t model, double seconds, uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (model >= rows_.size()) return;
  ++rows_[model].loads;
  rows_[model].loaded = true;
  loaded_bytes_ += bytes;
  load_seconds_.observe(seconds);
}

void Metrics::count_model_load_failure(size_t model) {
  std::lock_guard lock(mu_);
  if (model < rows_.size()) ++rows_[model].load_failures;
}

void Metrics::count_model_unload(size_t model, uint64_t bytes) {
  std::lock_guard lock(mu_);
  if (model >= rows_.size()) return;
  ++rows_[model].unloads;
  rows_[model].loaded = false;
  loaded_bytes_ -= std::min(loaded_bytes_, bytes);
}

Metrics::SchedulerGauges Metrics::scheduler() const {
  std::lock_guard lock(mu_);
  SchedulerGauges sum;
  for (const Row& r : rows_) {
    sum.queued += r.gauges.queued;
    sum.active += r.gauges.active;
    sum.slots += r.gauges.slots;
  }
  return sum;
}

// The composition's series: per model (label model="NAME") requests by how the model was chosen, loads,
// failed loads, unloads and whether it is loaded; the load time histogram and the bytes loaded against the budget.
void Metrics::render_composition(std::string& out) const {
  out +=
      "# HELP switchyard_model_requests_total Generation requests per model, by how it was chosen (routed: "
      "model auto or none; named)\n# TYPE switchyard_model_requests_total counter\n";
  for (const Row& r : rows_) {
    out +=
        fmt::format("switchyard_model_requests_total{{model=\"{}\",via=\"routed\"}} {}\n", r.name, r.requests_routed);
    out += fmt::format("switchyard_model_requests_total{{model=\"{}\",via=\"named\"}} {}\n", r.name, r.requests_named);
  }
  auto per_model = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const Row& r : rows_) out += fmt::format("{}{{model=\"{}\"}} {}\n", name, r.name, value(r));
  };
  per_model("switchyard_model_loads_total", "counter", "Times each model was loaded",
            [](const Row& r) { return r.loads; });
  per_model("switchyard_model_load_failures_total", "counter", "Loads that failed",
            [](const Row& r) { return r.load_failures; });
  per_model("switchyard_model_unloads_total", "counter", "Times each model was unloaded to make room",
            [](const Row& r) { return r.unloads; });
  per_model("switchyard_model_loaded", "gauge", "1 while the model is loaded",
            [](const Row& r) { return r.loaded ? 1 : 0; });
  load_seconds_.render(out, "switchyard_model_load_seconds", "Time to load a model (open, engine, scheduler)");
  out += fmt::format(
      "# HELP switchyard_model_loaded_bytes Footprint of the loaded models (docs/server.md)\n"
      "# TYPE switchyard_model_loaded_bytes gauge\nswitchyard_model_loaded_bytes {}\n",
      loaded_bytes_);
  out += fmt::format(
      "# HELP switchyard_model_budget_bytes The composition's memory budget (0: none)\n"
      "# TYPE switchyard_model_budget_bytes gauge\nswitchyard_model_budget_bytes {}\n",
      budget_bytes_);
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP switchyard_requests_total HTTP requests answered, by endpoint and status\n";
  out += "# TYPE switchyard_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("switchyard_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
  out += "# HELP switchyard_generations_total Generations ended, by how they ended\n";
  out += "# TYPE switchyard_generations_total counter\n";
  for (const auto& [reason, n] : finished_)
    out += fmt::format("switchyard_generations_total{{reason=\"{}\"}} {}\n", reason, n);
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  counter("switchyard_prompt_tokens_total", "Prompt tokens evaluated (not counting reused prefixes)", prompt_tokens_);
  counter("switchyard_prompt_tokens_reused_total", "Prompt tokens taken from a sequence's cached prefix",
          prompt_tokens_reused_);
  counter("switchyard_generated_tokens_total", "Tokens generated", generated_tokens_);
  counter("switchyard_engine_steps_total", "Forward passes (Engine::step) run by the scheduler", steps_);
  counter("switchyard_engine_step_tokens_total", "Tokens in those forward passes", step_tokens_);
  SchedulerGauges sum;
  for (const Row& r : rows_) {
    sum.queued += r.gauges.queued;
    sum.active += r.gauges.active;
    sum.slots += r.gauges.slots;
  }
  gauge("switchyard_queue_depth", "Requests waiting for a sequence slot", sum.queued);
  gauge("switchyard_active_sequences", "Sequence slots serving a request", sum.active);
  gauge("switchyard_sequence_slots", "Sequence slots (--parallel)", sum.slots);
  ttft_.render(out, "switchyard_time_to_first_token_seconds", "From a request's arrival to its first token");
  inter_token_.render(out, "switchyard_inter_token_latency_seconds", "Between consecutive tokens of one request");
  batch_sequences_.render(out, "switchyard_batch_sequences", "Sequences per forward pass");
  out += "# HELP switchyard_expert_load_total Tokens routed to each expert, by MoE layer (all requests)\n";
  out += "# TYPE switchyard_expert_load_total counter\n";
  for (const Row& r : rows_) {
    const std::string model = r.name.empty() ? std::string() : fmt::format("model=\"{}\",", r.name);
    for (size_t l = 0; l < r.expert_load.size(); ++l)
      for (size_t e = 0; e < r.expert_load[l].size(); ++e)
        out += fmt::format("switchyard_expert_load_total{{{}layer=\"{}\",expert=\"{}\"}} {}\n", model, l, e,
                           r.expert_load[l][e]);
  }
  if (composition_) render_composition(out);
  return out;
}

}  // namespace sy::server
