// A model's configuration as switchyard runs it: a small common part plus one recipe per layer, each block
// recipe holding only the fields that block reads (STYLE.md §1: no god struct). Architecture specs
// (model/archs/*.cpp) build it from GGUF metadata; the tensor table and the forward pass read only this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ops/rope.h"
#include "moe/routing_config.h"

namespace sy::model {

// RoPE parameters live with the kernel that applies them.
using RopeLayout = kernels::RopeLayout;
using RopeConfig = kernels::RopeParams;

enum class AttentionKind { kGqa, kMla };
// q/k RMSNorm: none, per head (weight [head_dim], Qwen3) or over the whole projected vector (OLMoE).
enum class QkNorm { kNone, kPerHead, kWholeVector };

struct GqaDims {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
};

// Multi-head latent attention (DeepSeek-V2/V3), absorbed form: the cache holds [c (kv_lora) | k_rope].
struct MlaDims {
  int64_t n_head = 0;
  int64_t q_lora_rank = 0;  // 0: plain attn_q projection (V2-Lite)
  int64_t kv_lora_rank = 0;
  int64_t qk_nope = 0;
  int64_t qk_rope = 0;
  int64_t v_head = 0;
};

struct AttentionRecipe {
  AttentionKind kind = AttentionKind::kGqa;
  GqaDims gqa;  // kGqa only
  MlaDims mla;  // kMla only
  QkNorm qk_norm = QkNorm::kNone;
  bool qkv_bias = false;
  bool out_bias = false;
  bool sinks = false;          // one learned sink logit per head (gpt-oss)
  int64_t sliding_window = 0;  // 0: full causal attention; else key visible iff 0 <= pos - key_pos < window
  RopeConfig rope;
  float kq_scale = 1.0f;  // softmax scale of q·k
};

enum class FfnKind { kDense, kMoe };
enum class Activation { kSilu, kSwigluOai };

struct MoeRecipe {
  moe::RoutingConfig routing;
  int64_t n_ff_exp = 0;         // routed expert width
  int64_t n_ff_shared = 0;      // shared expert width; 0: none
  bool shared_gate = false;     // shared expert output scaled by sigmoid(w · x) (Qwen2-MoE)
  bool router_bias = false;     // ffn_gate_inp.bias (gpt-oss)
  bool selection_bias = false;  // exp_probs_b: shifts the choice, not the weights (DeepSeek-V3)
  bool expert_bias = false;     // per-expert gate/up/down biases (gpt-oss)
};

struct FfnRecipe {
  FfnKind kind = FfnKind::kDense;
  Activation act = Activation::kSilu;
  int64_t n_ff = 0;  // dense width (kDense)
  MoeRecipe moe;     // kMoe only
};

// Which tensor normalises the FFN input: most families call it ffn_norm, gpt-oss post_attention_norm.
enum class FfnNormName { kFfnNorm, kPostAttentionNorm };

struct LayerRecipe {
  AttentionRecipe attn;
  FfnRecipe ffn;
  FfnNormName ffn_norm = FfnNormName::kFfnNorm;
};

struct CommonHparams {
  std::string arch;  // general.architecture
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ctx_train = 0;
  float rms_eps = 1e-6f;
  bool output_optional = false;  // output.weight may be absent: tied to token_embd
};

struct ModelConfig {
  CommonHparams common;
  std::vector<LayerRecipe> layers;  // one per block
};

}  // namespace sy::model
