#include "moe/analysis/prune.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sy::moe::analysis {

Result<std::vector<LayerPruning>> choose_experts(const trace::Trace& t, const PruneRequest& req) {
  const auto fail = [](std::string msg) { return tl::unexpected(Error{ErrorCode::kInvalidInput, std::move(msg)}); };
  if (req.keep < 0) return fail(fmt::format("--keep {} is negative", req.keep));
  if (req.keep == 0 && !(req.keep_fraction > 0.0 && req.keep_fraction <= 1.0))
    return fail(fmt::format("--keep fraction {} is not in (0, 1]", req.keep_fraction));
  if (!std::isfinite(req.tcess_threshold)) return fail("the TCESS threshold is not a finite number");
  if (req.score == PruneScore::kTcess && t.header.top_n == 0)
    return fail(
        "--score tcess needs the router's probabilities: write the calibration trace with --trace-top N "
        "(N = the expert count records them all)");
  std::vector<LayerPruning> out;
  std::vector<int> index(t.header.n_layer, -1);
  for (const trace::TraceLayer& l : t.header.layers) {
    index[l.layer] = static_cast<int>(out.size());
    LayerPruning& p = out.emplace_back();
    p.layer = static_cast<int32_t>(l.layer);
    p.n_expert = static_cast<int32_t>(l.n_expert);
    p.score.assign(l.n_expert, 0.0);
  }
  std::vector<uint64_t> tokens(out.size(), 0);
  for (size_t i = 0; i < t.records.size(); ++i) {
    const trace::TraceRecord& r = t.records[i];
    LayerPruning& p = out[static_cast<size_t>(index[r.layer])];  // the reader checked the layer is in the header
    ++tokens[static_cast<size_t>(index[r.layer])];
    switch (req.score) {
      case PruneScore::kFreq:
        for (int32_t e : r.ids) p.score[static_cast<size_t>(e)] += 1.0;
        break;
      case PruneScore::kMass:
        for (size_t s = 0; s < r.ids.size(); ++s) {
          const float w = s < r.weights.size() ? r.weights[s] : 0.0f;
          if (!std::isfinite(w)) return fail(fmt::format("trace record {}: weight {} is not finite", i, w));
          p.score[static_cast<size_t>(r.ids[s])] += std::abs(static_cast<double>(w));
        }
        break;
      case PruneScore::kTcess: {
        const double thr = req.tcess_threshold >= 0 ? req.tcess_threshold : 1.0 / p.n_expert;
        for (size_t s = 0; s < r.top_ids.size() && s < r.top_probs.size(); ++s) {
          const float v = r.top_probs[s];
          if (!std::isfinite(v)) return fail(fmt::format("trace record {}: router probability {} is not finite", i, v));
          if (r.top_ids[s] < 0 || r.top_ids[s] >= p.n_expert) continue;  // an empty slot
          if (v >= thr) p.score[static_cast<size_t>(r.top_ids[s])] += v;
        }
        break;
      }
    }
  }
  for (size_t li = 0; li < out.size(); ++li) {
    LayerPruning& p = out[li];
    if (req.score == PruneScore::kTcess && tokens[li] > 0)
      for (double& v : p.score) v /= static_cast<double>(tokens[li]);
    const int32_t keep = req.keep > 0
                             ? req.keep
                             : std::max<int32_t>(1, static_cast<int32_t>(std::lround(req.keep_fraction * p.n_expert)));
    const int32_t k = static_cast<int32_t>(t.header.layers[li].native_k);
    if (keep > p.n_expert)
      return fail(fmt::format("--keep {}: layer {} has only {} experts", keep, p.layer, p.n_expert));
    if (keep < k)
      return fail(
          fmt::format("--keep {}: layer {} routes to {} experts per token; keep at least that many", keep, p.layer, k));
    std::vector<int32_t> order(static_cast<size_t>(p.n_expert));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      return p.score[static_cast<size_t>(a)] > p.score[static_cast<size_t>(b)];
    });
    p.kept.assign(order.begin(), order.begin() + keep);
    p.pruned.assign(order.begin() + keep, order.end());
    std::sort(p.kept.begin(), p.kept.end());
    std::sort(p.pruned.begin(), p.pruned.end());
  }
  return out;
}

std::string expert_mask_text(const std::vector<LayerPruning>& layers, const std::string& comment) {
  std::string s;
  for (size_t start = 0; start < comment.size();) {
    size_t end = comment.find('\n', start);
    if (end == std::string::npos) end = comment.size();
    s += "# " + comment.substr(start, end - start) + "\n";
    start = end + 1;
  }
  for (const LayerPruning& p : layers) {
    if (p.pruned.empty()) continue;
    s += fmt::format("{}: {}\n", p.layer, fmt::join(p.pruned, " "));
  }
  return s;
}

}  // namespace sy::moe::analysis
