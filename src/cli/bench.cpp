// `switchyard bench [-m FILE] [-p 64,512] [-n 32] [-t 2] [--sequences 1,4] [-r 3] [-o md|json|jsonl] [--json]`
//
// Speed in the manner of llama-bench (protocol: src/runtime/bench.h): one test per prompt length (ppP) and
// per generation length (tgN), each for every thread count; tokens/s as mean ± sd over the repetitions. For
// tg also the weight bytes one token reads (dense part plus the experts it was routed to), the bandwidth
// that implies at the measured speed, and its share of the machine's read bandwidth, which bench measures
// itself after the tests with as many threads. Also the peak resident set and the model's load time.
// The JSON list (one object per test; fields in docs/bench.md) is the one source; the table is a view of it.
#include "runtime/bench.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/units.h"
#include "cli/validators.h"
#include "core/error.h"
#include "model/accounting.h"
#include "model/model.h"
#include "runtime/memory_probe.h"

namespace sy::cli {
namespace {

using json = nlohmann::ordered_json;

struct BenchOptions {
  std::string model;
  std::vector<std::string> n_prompt{"64,512"};  // each entry may itself be a comma list
  std::vector<std::string> n_gen{"32"};
  std::vector<std::string> threads{"2"};
  std::vector<std::string> sequences{"1"};
  int repetitions = 3;
  std::string output = "md";
  bool json = false;
  int64_t probe_mib = 0;  // 0: runtime::default_probe_bytes()
  bool fresh_tokens = false;
  runtime::ExpertCacheOptions expert_cache;
};

// "64,512" (and repeated flags) → {64, 512}; every entry a whole number within [lo, hi].
std::vector<int64_t> parse_list(const std::vector<std::string>& items, const char* option, int64_t lo, int64_t hi) {
  std::vector<int64_t> out;
  for (const std::string& item : items) {
    size_t start = 0;
    while (start <= item.size()) {
      const size_t comma = std::min(item.find(',', start), item.size());
      const std::string_view text(item.data() + start, comma - start);
      int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        throw Exception(
            {ErrorCode::kInvalidInput,
             fmt::format("{} '{}': '{}' is not a whole number (give a list such as 64,512)", option, item, text)});
      if (v < lo || v > hi)
        throw Exception({ErrorCode::kOutOfRange, fmt::format("{} {}: must be between {} and {}", option, v, lo, hi)});
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
      start = comma + 1;
    }
  }
  return out;
}

// "olmoe Q4_K": the architecture and the element type holding most of the bytes.
std::string model_type(const model::Model& m) {
  std::map<TensorType, uint64_t> bytes;
  for (const gguf::TensorInfo& t : m.file().tensors()) bytes[t.type] += t.n_bytes;
  const auto top =
      std::max_element(bytes.begin(), bytes.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string type = top != bytes.end() ? std::string(type_name(top->first)) : "?";
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
  return fmt::format("{} {}", m.config().common.arch, type);
}

// BOS first when the vocabulary adds one, as llama-bench does.
std::optional<int32_t> first_token(const gguf::File& file) {
  const gguf::Value* add = file.find("tokenizer.ggml.add_bos_token");
  const gguf::Value* bos = file.find("tokenizer.ggml.bos_token_id");
  if (add == nullptr || bos == nullptr || !add->as_bool().value_or(false) || !bos->as_int()) return std::nullopt;
  return static_cast<int32_t>(*bos->as_int());
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

json null_or(double v, bool present) { return present ? json(v) : json(nullptr); }

// The table: llama-bench's columns, then the tg bandwidth columns, then the lines for the whole run.
void print_markdown(const json& results, const json& run) {
  const std::vector<std::string> head{"model", "size",          "params", "threads", "test",
                                      "t/s",   "weights/token", "GB/s",   "% of bw"};
  const std::vector<bool> right{false, true, true, true, true, true, true, true, true};
  std::vector<std::vector<std::string>> rows;
  for (const json& r : results) {
    const bool tg = !r["bytes_per_token"].is_null();
    rows.push_back(
        {r["model_type"].get<std::string>(), bytes_str(r["model_size"].get<double>()),
         count_str(r["model_n_params"].get<double>()), std::to_string(r["threads"].get<int>()),
         r["test"].get<std::string>(),
         fmt::format("{:.2f} ± {:.2f}", r["tokens_per_second"].get<double>(), r["tokens_per_second_sd"].get<double>()),
         tg ? bytes_str(r["bytes_per_token"].get<double>()) : "",
         tg ? fmt::format("{:.2f}", r["bandwidth_gbs"].get<double>()) : "",
         tg && !r["bandwidth_share"].is_null() ? fmt::format("{:.1f} %", 100.0 * r["bandwidth_share"].get<double>())
                                               : ""});
  }
  std::vector<size_t> width(head.size());
  for (size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size() - (row[c].find("±") != std::string::npos));
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line = "|";
    for (size_t c = 0; c < cells.size(); ++c) {
      // "±" is two bytes for one column: pad by what the terminal shows.
      const size_t shown = cells[c].size() - (cells[c].find("±") != std::string::npos);
      const std::string pad(width[c] - shown, ' ');
      line += " " + (right[c] ? pad + cells[c] : cells[c] + pad) + " |";
    }
    fmt::print("{}\n", line);
  };
  print_row(head);
  std::string rule = "|";
  for (size_t c = 0; c < head.size(); ++c)
    rule += " " + std::string(width[c] - (right[c] ? 1 : 0), '-') + (right[c] ? ":" : "") + " |";
  fmt::print("{}\n", rule);
  for (const auto& row : rows) print_row(row);

  fmt::print("\n");
  for (const json& bw : run["memory_bandwidth"])
    fmt::print("memory bandwidth: {:.2f} GB/s read ({} thread{}, {} buffer, {} loads, best of {} passes)\n",
               bw["gbs"].get<double>(), bw["threads"].get<int>(), bw["threads"].get<int>() == 1 ? "" : "s",
               bytes_str(bw["buffer_bytes"].get<double>()), bw["isa"].get<std::string>(), bw["passes"].get<int>());
  fmt::print("peak RSS: {} (the model's mapped weights count once touched; taken before the bandwidth probe)\n",
             bytes_str(run["peak_rss_bytes"].get<double>()));
  fmt::print(
      "load: {:.1f} ms (maps the file and checks its tensors; weight pages are read on first use, in the "
      "untimed warm-up runs)\n",
      1e3 * run["load_seconds"].get<double>());
  fmt::print(
      "weights/token: dense and shared weights, one embedding row, and the experts each token was routed "
      "to; GB/s = weights/token × t/s (1 GB = 1e9 bytes)\n");
  for (const json& r : results) {
    if (r["n_sequences"].get<int>() <= 1 || r["bytes_per_step"].is_null()) continue;
    fmt::print(
        "{} ({} threads): {} sequences, one step reads {} (dense + the union of their experts); the bytes allow "
        "{:.2f}x the one-sequence speed",
        r["test"].get<std::string>(), r["threads"].get<int>(), r["n_sequences"].get<int>(),
        bytes_str(r["bytes_per_step"].get<double>()), r["speedup_allowed"].get<double>());
    if (!r["speedup"].is_null())
      fmt::print(", measured {:.2f}x ({:.1f} % of the allowance)", r["speedup"].get<double>(),
                 100.0 * r["allowance_share"].get<double>());
    fmt::print("\n");
  }
}

void run_bench(const BenchOptions& opt) {
  const auto prompts = parse_list(opt.n_prompt, "-p/--n-prompt", 0, 1 << 20);
  const auto gens = parse_list(opt.n_gen, "-n/--n-gen", 0, 1 << 20);
  const auto threads = parse_list(opt.threads, "-t/--threads", 1, 1024);
  const auto sequences = parse_list(opt.sequences, "--sequences", 1, 256);
  std::vector<runtime::BenchTest> tests;
  for (const int64_t p : prompts)
    for (const int64_t t : threads)
      if (p > 0) tests.push_back({.n_prompt = p, .n_threads = static_cast<int>(t), .repetitions = opt.repetitions});
  for (const int64_t n : gens)
    for (const int64_t q : sequences)
      for (const int64_t t : threads)
        if (n > 0)
          tests.push_back({.n_gen = n,
                           .n_threads = static_cast<int>(t),
                           .n_sequences = static_cast<int>(q),
                           .repetitions = opt.repetitions});
  if (tests.empty()) throw Exception({ErrorCode::kInvalidInput, "nothing to run: every -p and -n is 0"});
  const std::string format = opt.json ? "json" : opt.output;

  const std::string path = opt.model.empty() ? bundled_model_path() : opt.model;
  const auto load_start = std::chrono::steady_clock::now();
  const auto model = value_or_throw(model::Model::open(path));
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();

  const model::ModelConfig& config = model->config();
  const model::DecodeCost cost = model::decode_cost(config, model::file_costs(config, model->file()));
  uint64_t model_size = 0;
  int64_t n_params = 0;
  for (const gguf::TensorInfo& t : model->file().tensors()) {
    model_size += t.n_bytes;
    n_params += t.n_elements();
  }
  // Checked before anything runs, so a bad last test does not waste the others.
  for (const runtime::BenchTest& test : tests)
    if (const int64_t n = test.n_prompt + test.n_gen, train = config.common.n_ctx_train; train > 0 && n > train)
      throw Exception({ErrorCode::kOutOfRange, fmt::format("{} needs a context of {} tokens; {} was trained with {}",
                                                           runtime::bench_test_name(test), n, path, train)});
  const std::string type = model_type(*model);
  const auto bos = first_token(model->file());

  // Ctrl-C stops at the next forward pass; the tests done so far are still printed.
  install_interrupt_handler();
  std::vector<std::pair<runtime::BenchTest, runtime::BenchResult>> done;
  std::string stopped;
  for (runtime::BenchTest& test : tests) {
    test.expert_cache = opt.expert_cache;
    test.fresh_tokens = opt.fresh_tokens;
    test.first_token = bos;
    test.interrupt = interrupt_flag();
    if (stderr_is_terminal())
      fmt::print(stderr, "bench: {} with {} threads ({} + 1 warm-up runs)\n", runtime::bench_test_name(test),
                 test.n_threads, test.repetitions);
    auto result = runtime::run_bench_test(*model, cost, test);
    if (!result) {
      if (!interrupted()) throw Exception(std::move(result.error()));
      stopped = result.error().message;
      break;
    }
    done.emplace_back(test, std::move(*result));
  }
  const uint64_t peak_rss = runtime::peak_rss_bytes();

  json run = {{"peak_rss_bytes", peak_rss}, {"load_seconds", load_seconds}, {"memory_bandwidth", json::array()}};
  std::map<int, double> bandwidth_gbs;
  for (const int64_t t : threads) {
    if (!stopped.empty()) break;
    const runtime::BandwidthOptions probe{.buffer_bytes = static_cast<uint64_t>(opt.probe_mib) << 20,
                                          .n_threads = static_cast<int>(t),
                                          .interrupt = interrupt_flag()};
    auto bw = runtime::measure_read_bandwidth(probe);
    if (!bw) {
      if (!interrupted()) throw Exception(std::move(bw.error()));
      stopped = bw.error().message;
      break;
    }
    bandwidth_gbs[static_cast<int>(t)] = bw->bytes_per_second / 1e9;
    run["memory_bandwidth"].push_back({{"threads", t},
                                       {"gbs", bw->bytes_per_second / 1e9},
                                       {"buffer_bytes", bw->buffer_bytes},
                                       {"isa", bw->isa},
                                       {"passes", probe.passes}});
  }

  // Several sequences: the speed-up over one sequence (same n_gen and threads, when that test ran too).
  auto one_sequence_ts = [&](const runtime::BenchTest& test) -> double {
    for (const auto& [t, r] : done)
      if (t.n_gen == test.n_gen && t.n_threads == test.n_threads && t.n_sequences == 1) return r.mean_ts;
    return 0;
  };
  json results = json::array();
  for (const auto& [test, r] : done) {
    const bool tg = test.n_gen > 0;
    const double base_ts = tg ? one_sequence_ts(test) : 0.0;
    const double speedup = base_ts > 0 ? r.mean_ts / base_ts : 0.0;
    const auto bw = bandwidth_gbs.find(test.n_threads);
    const bool have_bw = bw != bandwidth_gbs.end() && bw->second > 0;
    // Weight bytes per second actually streamed: one step reads bytes_per_step for n_sequences tokens.
    const double implied_gbs = r.bytes_per_step * r.mean_ts / r.n_sequences / 1e9;
    json samples_ns = json::array();
    for (const double s : r.samples_seconds) samples_ns.push_back(static_cast<int64_t>(s * 1e9 + 0.5));
    results.push_back(
        {{"test", runtime::bench_test_name(test)},
         {"threads", test.n_threads},
         {"tokens_per_second", r.mean_ts},
         {"tokens_per_second_sd", r.sd_ts},
         {"n_prompt", test.n_prompt},
         {"n_gen", test.n_gen},
         {"repetitions", test.repetitions},
         {"samples_ts", r.samples_ts},
         {"samples_ns", samples_ns},
         {"model", path},
         {"model_type", type},
         {"model_size", model_size},
         {"model_n_params", n_params},
         {"n_sequences", test.n_sequences},
         {"bytes_per_token", null_or(r.bytes_per_token, tg)},
         {"bytes_per_step", null_or(r.bytes_per_step, tg)},
         {"speedup_allowed", null_or(r.speedup_allowed(), tg)},
         {"speedup", null_or(speedup, tg && speedup > 0)},
         {"allowance_share", null_or(speedup / r.speedup_allowed(), tg && speedup > 0 && r.speedup_allowed() > 0)},
         {"bandwidth_gbs", null_or(implied_gbs, tg)},
         {"bandwidth_share", null_or(have_bw ? implied_gbs / bw->second : 0.0, tg && have_bw)},
         {"memory_bandwidth_gbs", null_or(have_bw ? bw->second : 0.0, have_bw)},
         {"peak_rss_bytes", peak_rss},
         {"load_seconds", load_seconds}});
    // The expert cache's traffic over the timed repetitions (docs/expert-cache.md); absent without a cache.
    if (r.expert_cache)
      results.back()["expert_cache"] = {
          {"policy", opt.expert_cache.policy},         {"hits", r.expert_cache->hits},
          {"misses", r.expert_cache->misses},          {"bytes_read", r.expert_cache->bytes_read},
          {"evictions", r.expert_cache->evictions},    {"read_seconds", r.expert_cache->read_seconds},
          {"prefetch", opt.expert_cache.prefetch},     {"reads", opt.expert_cache.reads},
          {"prefetches", r.expert_cache->prefetches},  {"prefetch_hits", r.expert_cache->prefetch_hits},
          {"on_miss", opt.expert_cache.on_miss},       {"skipped", r.expert_cache->skipped},
          {"shadow_uses", r.expert_cache->shadow_uses}};
  }

  if (format == "json")
    fmt::print("{}\n", results.dump(2, ' ', false, json::error_handler_t::replace));
  else if (format == "jsonl")
    for (const json& r : results) fmt::print("{}\n", r.dump(-1, ' ', false, json::error_handler_t::replace));
  else
    print_markdown(results, run);
  if (!stopped.empty())
    throw Exception({ErrorCode::kInvalidInput,
                     fmt::format("interrupted after {} of {} tests ({})", done.size(), tests.size(), stopped)});
}

void register_bench(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  auto* cmd =
      app.add_subcommand("bench", "Prompt and generation speed, weight bandwidth and memory (llama-bench style)");
  cmd->add_option("-m,--model", opt->model, "GGUF model file (default: the bundled model)");
  cmd->add_option("-p,--n-prompt", opt->n_prompt,
                  "Prompt lengths, comma-separated or repeated; 0 skips (default 64,512)")
      ->take_all();
  cmd->add_option("-n,--n-gen", opt->n_gen, "Generation lengths, comma-separated or repeated; 0 skips (default 32)")
      ->take_all();
  cmd->add_option("-t,--threads", opt->threads, "Thread counts, comma-separated or repeated (default 2)")->take_all();
  cmd->add_option(
         "--sequences", opt->sequences,
         "tg only: sequences decoded together, one token each per step; comma-separated or repeated (default 1)")
      ->take_all();
  cmd->add_option("-r,--repetitions", opt->repetitions, "Timed runs per test (default 3)")->check(in_range(1, 1000));
  cmd->add_option("-o,--output", opt->output, "Output format: md (a table), json (a list) or jsonl (default md)")
      ->check(CLI::IsMember({"md", "json", "jsonl"}));
  cmd->add_flag("--json", opt->json, "Same as -o json");
  cmd->add_flag("--fresh-tokens", opt->fresh_tokens,
                "Each timed repetition feeds token ids of its own instead of replaying the warm-up's (always so with "
                "--expert-cache): what new text meets when the weights do not all stay in memory");
  cmd->add_option("--probe-mib", opt->probe_mib,
                  "Buffer of the memory bandwidth probe in MiB (default 0: 8 x the last-level cache, 256 to 1024)")
      ->check(in_range(int64_t{0}, int64_t{1} << 20));
  add_expert_cache_options(cmd, opt->expert_cache);
  cmd->callback([opt] { run_bench(*opt); });
}

}  // namespace

SY_COMMAND(bench, register_bench);

}  // namespace sy::cli
