// `switchyard inspect FILE [--json]`: what a user deciding whether a model fits wants to know. The JSON
// document (inspect_report.h, schema in docs/inspect-json.md) is the one source; the text is a view of it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/units.h"
#include "cli/validators.h"
#include "core/error.h"
#include "runtime/inspect_report.h"

namespace sy::cli {
namespace {

using json = nlohmann::ordered_json;

struct InspectOptions {
  std::string path;
  bool json = false;
  bool brief = false;
  int64_t context = 4096;
};

std::string or_dash(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string yes_no(const json& v) { return v.is_boolean() && v.get<bool>() ? "yes" : "no"; }

void print_hparams(const json& h) {
  fmt::print("\nhyper-parameters\n  vocab {}  embd {}  layers {}  ctx_train {}  rms_eps {:g}\n", or_dash(h["n_vocab"]),
             or_dash(h["n_embd"]), or_dash(h["n_layer"]), or_dash(h["n_ctx_train"]), h["rms_eps"].get<double>());
  const json& a = h["attention"];
  if (!a.is_null()) {
    if (a["kind"] == "gqa")
      fmt::print("  attention  GQA: {} heads, {} kv heads, head dim k {} / v {}", or_dash(a["n_head"]),
                 or_dash(a["n_head_kv"]), or_dash(a["head_dim_k"]), or_dash(a["head_dim_v"]));
    else
      fmt::print("  attention  MLA: {} heads, q_lora {}, kv_lora {}, qk nope {} + rope {}, v {}", or_dash(a["n_head"]),
                 or_dash(a["q_lora_rank"]), or_dash(a["kv_lora_rank"]), or_dash(a["qk_nope_head_dim"]),
                 or_dash(a["qk_rope_head_dim"]), or_dash(a["v_head_dim"]));
    fmt::print(", q/k norm {}, qkv bias {}, out bias {}, sinks {}\n", or_dash(a["qk_norm"]), yes_no(a["qkv_bias"]),
               yes_no(a["output_bias"]), yes_no(a["sinks"]));
    const json& r = a["rope"];
    fmt::print("  rope       {} layout, {} dims, base {:g}, scale {:g}{}\n", or_dash(r["layout"]), or_dash(r["n_rot"]),
               r["freq_base"].get<double>(), r["freq_scale"].get<double>(),
               r["yarn"].get<bool>() ? fmt::format(", YaRN (orig ctx {})", or_dash(r["n_ctx_orig"])) : "");
  }
  std::string swa;
  int64_t window = 0;
  const json& sw = h["sliding_window_per_layer"];
  for (size_t i = 0; i < sw.size(); ++i) {
    if (sw[i].get<int64_t>() <= 0) continue;
    swa += fmt::format("{}{}", swa.empty() ? "" : ",", i);
    window = sw[i].get<int64_t>();
  }
  if (!swa.empty()) fmt::print("  sliding window {} on layers {}\n", window, swa);
  fmt::print("  ffn        {}{}\n", or_dash(h["activation"]),
             h["dense_ff"].is_null() ? "" : fmt::format(", dense width {}", or_dash(h["dense_ff"])));
}

void print_routing(const json& r) {
  fmt::print("\nrouting\n");
  if (r.is_null()) {
    fmt::print("  dense model (no MoE layers)\n");
    return;
  }
  fmt::print("  experts {}, used per token {}, expert width {}\n", or_dash(r["n_expert"]), or_dash(r["n_expert_used"]),
             or_dash(r["expert_ff"]));
  fmt::print("  shared experts {} (width {}{})\n", or_dash(r["n_shared_experts"]), or_dash(r["shared_expert_ff"]),
             r["shared_expert_gate"].get<bool>() ? ", sigmoid-gated" : "");
  fmt::print("  gating {}, renormalise top-k {}, weight scale {:g}\n", or_dash(r["gating"]), yes_no(r["norm_weights"]),
             r["weight_scale"].get<double>());
  fmt::print("  expert groups {} (keep {}), selection bias {}, router bias {}, expert biases {}\n",
             or_dash(r["n_group"]), or_dash(r["n_group_used"]), yes_no(r["selection_bias"]), yes_no(r["router_bias"]),
             yes_no(r["expert_bias"]));
  fmt::print("  MoE layers {}, leading dense layers {}\n", or_dash(r["n_moe_layers"]),
             or_dash(r["leading_dense_layers"]));
}

void print_tokenizer(const json& t) {
  fmt::print("\ntokenizer\n");
  if (t.is_null()) {
    fmt::print("  none (no tokenizer.ggml.model)\n");
    return;
  }
  fmt::print("  model {}, pre {}, {} tokens, {} merges\n", or_dash(t["model"]), or_dash(t["pre"]),
             or_dash(t["n_vocab"]), or_dash(t["n_merges"]));
  fmt::print("  bos {}, eos {}, eot {}, unk {}, pad {}, add_bos {}\n", or_dash(t["bos_id"]), or_dash(t["eos_id"]),
             or_dash(t["eot_id"]), or_dash(t["unknown_id"]), or_dash(t["padding_id"]), or_dash(t["add_bos"]));
  fmt::print("  chat template: {}\n",
             t["chat_template"].get<bool>() ? fmt::format("yes ({} bytes)", or_dash(t["chat_template_bytes"])) : "no");
}

void print_sizes(const json& r) {
  const json& p = r["params"];
  const json& b = r["bytes"];
  const json& m = r["memory"];
  fmt::print("\nparameters\n  total {}", count_str(p["total"].get<double>()));
  if (!p["active_per_token"].is_null())
    fmt::print(", active per token {} ({} without the token embedding)", count_str(p["active_per_token"].get<double>()),
               count_str(p["active_per_token_excl_embedding"].get<double>()));
  fmt::print("\n");
  if (!p["by_placement"].is_null()) {
    fmt::print("  by placement:");
    for (const auto& [k, v] : p["by_placement"].items())
      if (v.get<int64_t>() > 0) fmt::print(" {} {};", k, count_str(v.get<double>()));
    fmt::print("\n");
  }
  const double total = b["total"].get<double>();
  fmt::print("\nbytes\n  total {}", bytes_str(total));
  if (!b["routed_experts"].is_null()) {
    auto pct = [&](const json& v) { return total > 0 ? 100.0 * v.get<double>() / total : 0.0; };
    fmt::print(": routed experts {} ({:.1f}%), shared experts {} ({:.1f}%), everything else {} ({:.1f}%)\n",
               bytes_str(b["routed_experts"].get<double>()), pct(b["routed_experts"]),
               bytes_str(b["shared_experts"].get<double>()), pct(b["shared_experts"]),
               bytes_str(b["non_expert"].get<double>()), pct(b["non_expert"]));
    fmt::print("  read per token in decode: {}\n", bytes_str(b["active_per_token"].get<double>()));
    // One line per distinct per-expert size (K-quant mixes give some layers Q6_K down projections), with the
    // layers that have it as ranges.
    const json& layers = b["per_expert_per_layer"];
    std::vector<bool> done(layers.size(), false);
    for (size_t i = 0; i < layers.size(); ++i) {
      if (done[i]) continue;
      std::string ranges;
      int64_t start = -1, prev = -2;
      auto flush = [&] {
        if (start < 0) return;
        ranges += fmt::format("{}{}", ranges.empty() ? "" : ",",
                              start == prev ? fmt::format("{}", start) : fmt::format("{}-{}", start, prev));
      };
      size_t count = 0;
      for (size_t j = i; j < layers.size(); ++j) {
        if (layers[j]["bytes"] != layers[i]["bytes"]) continue;
        done[j] = true;
        ++count;
        const int64_t l = layers[j]["layer"].get<int64_t>();
        if (l != prev + 1) {
          flush();
          start = l;
        }
        prev = l;
      }
      flush();
      fmt::print("  per expert: {} ({} parameters) in {} layer{} ({})\n", bytes_str(layers[i]["bytes"].get<double>()),
                 count_str(layers[i]["params"].get<double>()), count, count == 1 ? "" : "s", ranges);
    }
  } else {
    fmt::print("\n");
  }
  if (!m["kv_bytes_per_token"].is_null())
    fmt::print("\nmemory (context {}, {} KV cache)\n  weights {} + KV cache {} ({} per token) = {}\n",
               or_dash(m["context"]), or_dash(m["kv_cache_type"]), bytes_str(m["weights_bytes"].get<double>()),
               bytes_str(m["kv_cache_bytes"].get<double>()), bytes_str(m["kv_bytes_per_token"].get<double>()),
               bytes_str(m["total_bytes"].get<double>()));
  else
    fmt::print("\nmemory\n  weights {}\n", bytes_str(m["weights_bytes"].get<double>()));
}

void print_text(const json& r, bool brief) {
  const json& f = r["file"];
  fmt::print("file   {} ({}, GGUF v{}, {} tensors, {} metadata keys)\n", or_dash(f["path"]),
             bytes_str(f["size_bytes"].get<double>()), or_dash(f["gguf_version"]), or_dash(f["n_tensors"]),
             or_dash(f["n_metadata"]));
  fmt::print("model  {} {}{}\n", or_dash(r["architecture"]),
             r["name"].is_null() ? "" : "\"" + or_dash(r["name"]) + "\"",
             r["supported"].get<bool>() ? "" : "  [not supported]");
  if (!r["hparams"].is_null()) print_hparams(r["hparams"]);
  if (r["supported"].get<bool>()) print_routing(r["routing"]);
  print_tokenizer(r["tokenizer"]);
  print_sizes(r);
  if (!r["notes"].empty()) {
    fmt::print("\nnotes\n");
    for (const auto& n : r["notes"]) fmt::print("  {}\n", n.get<std::string>());
  }
  if (brief) return;
  fmt::print("\nmetadata ({} keys)\n", r["metadata"].size());
  for (const auto& m : r["metadata"]) {
    const json& v = m["value"];
    std::string shown;
    if (v.is_object()) {
      shown = fmt::format("[{} x {}]", or_dash(v["elem_type"]), or_dash(v["count"]));
      std::string head = v["head"].dump(-1, ' ', false, json::error_handler_t::replace);
      if (head.size() > 100) head = head.substr(0, 100) + "…";
      if (!v["head"].empty()) shown += " " + head;
    } else {
      shown = v.is_number_float() ? fmt::format("{:g}", v.get<double>())
                                  : v.dump(-1, ' ', false, json::error_handler_t::replace);
      if (shown.size() > 120) shown = shown.substr(0, 120) + "…";
    }
    fmt::print("  {} ({}) = {}\n", or_dash(m["key"]), or_dash(m["type"]), shown);
  }
  fmt::print("\ntensors ({})\n  {:<36} {:<6} {:<22} {:>12}  {}\n", r["tensors"].size(), "name", "type", "shape",
             "bytes", "placement");
  for (const auto& t : r["tensors"])
    fmt::print("  {:<36} {:<6} {:<22} {:>12}  {}\n", or_dash(t["name"]), or_dash(t["type"]), t["shape"].dump(),
               or_dash(t["bytes"]), or_dash(t["placement"]));
}

void run_inspect(const InspectOptions& opt) {
  const json report = value_or_throw(runtime::inspect_file(opt.path, {.context = opt.context}));
  if (opt.json)
    fmt::print("{}\n", report.dump(2, ' ', false, json::error_handler_t::replace));
  else
    print_text(report, opt.brief);
}

void register_inspect(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Show a GGUF model's architecture, routing, tensors and memory needs");
  cmd->add_option("file", opt->path, "GGUF file")->required();
  cmd->add_flag("--json", opt->json, "Print JSON (schema: docs/inspect-json.md) instead of text");
  cmd->add_flag("--brief", opt->brief, "Text without the metadata list and the tensor table");
  cmd->add_option("--ctx", opt->context, "Context length the memory estimate provisions KV cache for")
      ->capture_default_str()
      ->check(in_range(int64_t{1}, int64_t{1} << 24));
  cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace

SY_COMMAND(inspect, register_inspect);

}  // namespace sy::cli
