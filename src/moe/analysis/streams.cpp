#include "moe/analysis/streams.h"

namespace sy::moe::analysis {

std::vector<LayerStream> layer_streams(const trace::Trace& trace) {
  std::vector<LayerStream> out;
  std::vector<int> index(trace.header.n_layer, -1);
  for (const trace::TraceLayer& l : trace.header.layers) {
    index[l.layer] = static_cast<int>(out.size());
    LayerStream& s = out.emplace_back();
    s.layer = static_cast<int32_t>(l.layer);
    s.n_expert = static_cast<int32_t>(l.n_expert);
    s.k = static_cast<int32_t>(l.native_k);
  }
  for (const trace::TraceRecord& r : trace.records) {
    LayerStream& s = out[static_cast<size_t>(index[r.layer])];  // the reader checked the layer is in the header
    s.tokens.push_back(r.ids);
    s.seq.push_back(r.seq);
    s.pos.push_back(r.pos);
    s.pred.push_back(r.pred);
  }
  return out;
}

}  // namespace sy::moe::analysis
