// Fuzz target: bytes → a loaded model, through the code `switchyard run` uses after it has mapped the file:
// GGUF metadata → hyper-parameters (the architecture spec) → tensor table → validation and binding
// (Model::from_file), the model's tokenizer, and a session at the model's training context whose KV cache makes
// room for the first token. Any outcome but a clean error (which says something) or a loaded model is a
// finding; run under -rss_limit_mb=512 -timeout=5, a forged count that costs memory or time is one too.
// The forward pass itself is not run: it would only multiply the fuzzer's random weights.
#include <cstring>
#include <memory>
#include <span>

#include "format/gguf_reader.h"
#include "fuzz/fuzz_target.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

SY_FUZZ_TARGET(model_load) {
  // Exactly `size` bytes on the heap, so AddressSanitizer flags a read past them; they outlive the model.
  auto owned = std::make_unique<uint8_t[]>(size);
  if (size > 0) std::memcpy(owned.get(), data, size);
  auto file = sy::gguf::File::parse(std::span<const uint8_t>(owned.get(), size), "fuzz");
  if (!file) return 0;  // the gguf_reader target's ground
  auto model = sy::model::Model::from_file(std::move(*file));
  if (!model) {
    if (model.error().message.empty()) __builtin_trap();  // every error must say something
    return 0;
  }
  const sy::model::Model& m = **model;
  const sy::model::ModelConfig& config = m.config();
  if (config.layers.size() != static_cast<size_t>(config.common.n_layer)) __builtin_trap();
  // The MoE layers' experts must be bound and their slabs inside the file.
  for (size_t il = 0; il < config.layers.size(); ++il) {
    if (config.layers[il].ffn.kind != sy::model::FfnKind::kMoe) continue;
    const int l = static_cast<int>(il);
    for (auto role : {sy::model::Role::kExpGate, sy::model::Role::kExpUp, sy::model::Role::kExpDown}) {
      const sy::gguf::TensorInfo* t = m.weights().get(l, role);
      if (t == nullptr || t->ne[2] != config.layers[il].ffn.moe.routing.n_expert) __builtin_trap();
      const auto last = m.weights().slab(l, role, t->ne[2] - 1);
      if (last.data < t->data.data() ||
          last.data + last.row_stride * static_cast<size_t>(last.n_rows) > t->data.data() + t->data.size())
        __builtin_trap();
    }
  }
  auto tokenizer = sy::tok::Tokenizer::from_gguf(m.file());
  if (!tokenizer && tokenizer.error().message.empty()) __builtin_trap();
  // The session `run` opens without -c: the model's training context, one thread.
  sy::runtime::Session session(m, {.n_ctx = config.common.n_ctx_train, .n_threads = 1});
  // What the first step of a prompt does before computing anything: room for its positions in every layer.
  sy::model::KvCache cache(config, session.n_ctx());
  if (auto st = cache.reserve(1); !st && st.error().message.empty()) __builtin_trap();
  return 0;
}
