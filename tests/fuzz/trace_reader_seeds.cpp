#include "fuzz/trace_reader_seeds.h"

#include <fstream>
#include <iterator>
#include <string>

#include "model/model.h"
#include "runtime/routing_setup.h"
#include "runtime/session.h"

namespace sy::fuzz {

Result<std::vector<SeedInput>> trace_reader_seed_inputs(const std::filesystem::path& scratch,
                                                        const std::filesystem::path& model_path) {
  auto model = model::Model::open(model_path);
  if (!model) return tl::unexpected(model.error());
  struct Config {
    const char* name;
    runtime::RoutingOptions options;
  };
  const Config configs[] = {
      {"native-top6-norm-predict.trace",
       {.route = "native", .trace_top = 6, .trace_hidden_norm = true, .predict_next = true}},
      {"top-k1.trace", {.experts_per_token = 1}},
      {"top-p.trace", {.route = "top-p:0.3:2:5", .trace_top = 2}},
      {"random3.trace", {.route = "random:3"}},
  };
  std::vector<SeedInput> out;
  for (const Config& c : configs) {
    const auto path = scratch / c.name;
    {
      runtime::Session session(**model, {.n_ctx = 64, .n_threads = 1});
      runtime::RoutingOptions options = c.options;
      options.trace = path.string();
      if (auto st = runtime::apply_routing_options(session.engine(), options); !st) return tl::unexpected(st.error());
      // Two sequences: an 8-token prompt and four decoded tokens, then a new sequence of three.
      const std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8};
      std::vector<float> logits;
      using Logits = runtime::Session::Logits;
      if (auto st = session.eval(prompt, logits, Logits::kLast); !st) return tl::unexpected(st.error());
      for (int32_t t = 9; t < 13; ++t)
        if (auto st = session.eval({&t, 1}, logits, Logits::kLast); !st) return tl::unexpected(st.error());
      session.reset();
      if (auto st = session.eval({prompt.data(), 3}, logits, Logits::kLast); !st) return tl::unexpected(st.error());
    }  // the engine closes the trace
    std::ifstream in(path, std::ios::binary);
    out.push_back({c.name, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}});
    if (out.back().bytes.empty()) return fail(ErrorCode::kIo, "trace_reader seeds: {} is empty", path.string());
  }
  return out;
}

}  // namespace sy::fuzz
