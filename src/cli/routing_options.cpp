#include "cli/routing_options.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>

namespace sy::cli {
namespace {

// Signal handlers can only touch lock-free atomics; this is the one piece of process-wide state the CLI keeps.
std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

}  // namespace

void add_routing_options(CLI::App* cmd, RoutingOptions& o) {
  cmd->add_option("--route", o.route,
                  "Routing policy: [LAYERS=]POLICY,... with POLICY native | top-k:K | top-p:P[:MIN[:MAX]][:renorm] | "
                  "random[:SEED] and LAYERS N, N-M, N-M+K; plus cache-aware:B, a bonus B for experts in the expert "
                  "cache (docs/routing.md)");
  cmd->add_option("--experts-per-token", o.experts_per_token,
                  "Experts per token on every MoE layer (native rule otherwise)")
      ->check(CLI::Range(1, 255));
  cmd->add_option("--expert-mask", o.expert_mask, "File of experts to disable per layer ('LAYERS: e e e' lines)");
  cmd->add_option("--route-bias", o.route_bias, "File of per-expert selection biases ('LAYERS: b0 b1 ...' lines)");
  cmd->add_option("--trace", o.trace, "Write a routing trace (docs/trace-format.md)");
  cmd->add_option("--trace-top", o.trace_top, "Router probabilities kept per trace record")->check(CLI::Range(0, 256));
  cmd->add_flag("--trace-hidden-norm", o.trace_hidden_norm, "Record the norm of each router input in the trace");
  cmd->add_flag("--predict-next", o.predict_next,
                "Predict each MoE layer's experts with its router on the previous layer's input; recall on stderr, "
                "predictions in the trace");
  add_expert_cache_options(cmd, o.expert_cache);
}

void add_expert_cache_options(CLI::App* cmd, runtime::ExpertCacheOptions& o) {
  // Left at its default (auto), the decision is reported only when it turns the cache on.
  o.explain = false;
  cmd->add_option("--expert-cache", o.size,
                  "Experts in a cache of SIZE bytes (K/M/G/T, KiB.., KB..) read from the file, 'auto' (default: a "
                  "cache only when the model does not fit in memory) or 'off' (all mapped) (docs/expert-cache.md)")
      ->each([&o](const std::string&) { o.explain = true; })
      ->check([](const std::string& text) -> std::string {
        // A bad size is a usage error before the model loads.
        if (text == "auto" || text == "off") return {};
        auto bytes = runtime::parse_byte_size(text);
        return bytes ? std::string() : bytes.error().message;
      });
  cmd->add_option("--expert-cache-policy", o.policy, "Expert cache eviction: lru (default), lfu or score")
      ->check(CLI::IsMember({"lru", "lfu", "score"}));
  cmd->add_option("--prefetch", o.prefetch,
                  "With --expert-cache: 'gate' reads the experts the next layer's router picks on this layer's input "
                  "ahead on the reader threads, 'gate:M' only each token's M surest picks; 'off' (default)")
      ->check([](const std::string& text) -> std::string {
        auto mode = runtime::parse_prefetch(text);
        return mode ? std::string() : mode.error().message;
      });
  cmd->add_option("--expert-reads", o.reads,
                  "With --expert-cache: how misses read the file: 'direct' (O_DIRECT, past the page cache; default), "
                  "'dontneed' (buffered, then dropped from the page cache) or 'buffered'")
      ->check(CLI::IsMember({"direct", "dontneed", "buffered"}));
  cmd->add_option("--expert-readers", o.readers,
                  "With --expert-cache: threads that read a layer's missing experts while its cached ones compute "
                  "(and --prefetch's guesses); 0: each compute thread reads its own misses (default 4)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--on-miss", o.on_miss,
                  "With --expert-cache: what an expert that is not in memory when its layer routes does: 'wait' for "
                  "it (exact; default), 'skip:W' drop it for a token that weighs it below W (a routing weight, e.g. "
                  "0.1), or 'low-bit' "
                  "compute it with the --shadow copy; its read goes on for later tokens")
      ->check([](const std::string& text) -> std::string {
        auto mode = runtime::parse_on_miss(text);
        return mode ? std::string() : mode.error().message;
      });
  cmd->add_option("--shadow", o.shadow,
                  "With --on-miss low-bit: the low-bit copy of this model's experts (switchyard make-shadow)");
}

Status apply_routing_options(runtime::Engine& engine, const RoutingOptions& o) {
  auto to_stderr = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  runtime::RoutingOptions with_report = o;
  with_report.report = to_stderr;
  if (auto s = runtime::apply_routing_options(engine, with_report); !s) return s;
  return runtime::apply_expert_cache(engine, o.expert_cache, to_stderr);
}

Status apply_routing_options(runtime::Session& session, const RoutingOptions& o) {
  return apply_routing_options(session.engine(), o);
}

void install_interrupt_handler() { std::signal(SIGINT, on_sigint); }

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

const std::atomic<bool>* interrupt_flag() { return &g_interrupted; }

}  // namespace sy::cli
