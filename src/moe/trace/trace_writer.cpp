#include "moe/trace/trace_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "moe/predict/next_layer_predictor.h"

namespace sy::moe::trace {
namespace {

constexpr size_t kBlockBytes = 1 << 20;  // per write; decode of a small model fills one in ~100 tokens
constexpr size_t kMaxQueuedBlocks = 16;  // 16 MiB in flight at most

// Router probabilities as the report shows them: sigmoid scores for sigmoid routers, softmax otherwise.
void router_probs(const RoutingConfig& c, const float* z, std::vector<float>& p) {
  const int32_t E = c.n_expert;
  p.resize(static_cast<size_t>(E));
  if (c.gating == Gating::kSigmoid) {
    for (int32_t e = 0; e < E; ++e) p[e] = 1.0f / (1.0f + std::exp(-z[e]));
    return;
  }
  const float max = *std::max_element(z, z + E);
  double sum = 0.0;
  for (int32_t e = 0; e < E; ++e) sum += (p[e] = std::exp(z[e] - max));
  for (int32_t e = 0; e < E; ++e) p[e] = static_cast<float>(p[e] / sum);
}

}  // namespace

Result<std::unique_ptr<TraceWriter>> TraceWriter::create(const std::string& path, const TraceHeader& header,
                                                         const NextLayerPredictor* predictor) {
  // A header the reader would refuse makes a trace nobody can read: refuse it before the file is created.
  if (header.slots > kMaxSlots)
    return fail(ErrorCode::kInvalidInput,
                "cannot trace to {}: the routing may choose up to {} experts per token, and a trace record holds at "
                "most {} (give top-p a MAX of at most {})",
                path, header.slots, kMaxSlots, kMaxSlots);
  size_t used = 0;
  if (auto ok = decode_header(encode_header(header), used); !ok)
    return fail(ErrorCode::kInvalidInput, "cannot trace to {}: {}", path, ok.error().message);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return fail(ErrorCode::kIo, "cannot create trace file {}: {}", path, std::strerror(errno));
  const std::vector<uint8_t> bytes = encode_header(header);
  if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fflush(f) != 0) {
    std::fclose(f);
    return fail(ErrorCode::kIo, "writing the header of {} failed", path);
  }
  return std::unique_ptr<TraceWriter>(new TraceWriter(f, header, predictor, path));
}

TraceWriter::TraceWriter(std::FILE* file, TraceHeader header, const NextLayerPredictor* predictor, std::string path)
    : header_(std::move(header)),
      record_bytes_(header_.record_bytes()),
      predictor_(predictor),
      path_(std::move(path)),
      file_(file),
      thread_([this] { writer_loop(); }) {
  block_.reserve(kBlockBytes + record_bytes_);
}

TraceWriter::~TraceWriter() {
  // Errors here have nowhere else to go: callers that care call close() themselves.
  if (auto s = close(); !s) fmt::print(stderr, "switchyard: {}\n", s.error().message);
}

void TraceWriter::on_routing(const RoutingEvent& ev) {
  const RoutingDecision& d = *ev.decision;
  if (!explicit_seq_) {
    const bool starts = ev.pos0 == 0 && ev.layer == static_cast<int32_t>(header_.layers.front().layer);
    auto [it, first] = trace_seq_of_.try_emplace(ev.sequence, 0);
    if (first || starts) it->second = next_seq_++;
    seq_ = it->second;
  }
  TraceRecord& r = scratch_;
  for (int64_t t = 0; t < d.n_tokens; ++t) {
    r.seq = seq_;
    r.pos = static_cast<uint32_t>(ev.pos0 + t);
    r.layer = static_cast<uint16_t>(ev.layer);
    r.ids.clear();
    r.weights.clear();
    for (int32_t j = 0; j < d.k; ++j) {
      const int32_t id = d.ids[static_cast<size_t>(t * d.k + j)];
      if (id == kNoExpert) continue;
      r.ids.push_back(id);
      r.weights.push_back(d.weights[static_cast<size_t>(t * d.k + j)]);
    }
    r.top_ids.clear();
    r.top_probs.clear();
    if (header_.top_n > 0 && ev.logits != nullptr && ev.config != nullptr) {
      const int32_t E = ev.config->n_expert;
      router_probs(*ev.config, ev.logits + t * E, probs_);
      const int32_t n = std::min<int32_t>(static_cast<int32_t>(header_.top_n), E);
      order_.resize(static_cast<size_t>(E));
      std::iota(order_.begin(), order_.end(), 0);
      std::partial_sort(order_.begin(), order_.begin() + n, order_.end(), [this](int32_t a, int32_t b) {
        return probs_[a] > probs_[b] || (probs_[a] == probs_[b] && a < b);
      });
      for (int32_t j = 0; j < n; ++j) {
        r.top_ids.push_back(order_[j]);
        r.top_probs.push_back(probs_[order_[j]]);
      }
    }
    if ((header_.flags & kFlagHiddenNorm) != 0 && ev.hidden != nullptr) {
      const float* h = ev.hidden + t * ev.n_embd;
      double ss = 0.0;
      for (int64_t i = 0; i < ev.n_embd; ++i) ss += double{h[i]} * h[i];
      r.hidden_norm = static_cast<float>(std::sqrt(ss));
    }
    r.pred.clear();
    if (predictor_ != nullptr && header_.pred_slots > 0) {
      const std::span<const int32_t> p = predictor_->predicted(ev.layer, ev.pos0 + t);
      r.pred.assign(p.begin(), p.end());
    }
    const size_t at = block_.size();
    block_.resize(at + record_bytes_);
    encode_record(header_, r, block_.data() + at);
    ++n_records_;
  }
  if (block_.size() >= kBlockBytes) push_block();
}

void TraceWriter::push_block() {
  if (block_.empty()) return;
  std::vector<uint8_t> full;
  full.reserve(kBlockBytes + record_bytes_);
  std::swap(full, block_);
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return queue_.size() < kMaxQueuedBlocks; });
  queue_.push_back(std::move(full));
  cv_.notify_all();
}

void TraceWriter::flush() { push_block(); }

void TraceWriter::writer_loop() {
  for (;;) {
    std::vector<uint8_t> block;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      block = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
    }
    // Whole blocks of whole records: a crash mid-write leaves at most one partial record at the end.
    const bool ok = std::fwrite(block.data(), 1, block.size(), file_) == block.size() && std::fflush(file_) == 0;
    if (!ok) {
      std::lock_guard lock(mutex_);
      if (write_status_)
        write_status_ = fail(ErrorCode::kIo, "writing trace {} failed: {}", path_, std::strerror(errno));
    }
  }
}

Status TraceWriter::close() {
  if (closed_) return {};
  push_block();
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    cv_.notify_all();
  }
  thread_.join();
  closed_ = true;
  if (std::fclose(file_) != 0 && write_status_) write_status_ = fail(ErrorCode::kIo, "closing trace {} failed", path_);
  return write_status_;
}

}  // namespace sy::moe::trace
