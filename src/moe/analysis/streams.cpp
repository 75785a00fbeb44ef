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

LayerStream pool_stream(const std::vector<LayerStream>& layers) {
  LayerStream all;
  if (layers.empty()) return all;
  all.layer = -1;
  std::vector<int32_t> offset;
  for (const LayerStream& l : layers) {
    offset.push_back(all.n_expert);
    all.n_expert += l.n_expert;
    all.k += l.k;
  }
  for (size_t t = 0; t < layers.front().tokens.size(); ++t)
    for (size_t l = 0; l < layers.size(); ++l) {
      if (t >= layers[l].tokens.size()) continue;  // a layer with fewer records (a cut trace)
      std::vector<int32_t> ids;
      for (const int32_t e : layers[l].tokens[t]) ids.push_back(offset[l] + e);
      all.tokens.push_back(std::move(ids));
      all.seq.push_back(layers[l].seq[t]);
      all.pos.push_back(layers[l].pos[t]);
    }
  all.pred.resize(all.tokens.size());
  return all;
}

}  // namespace sy::moe::analysis
