// Bounds on hyper-parameters, far above any real model (the largest today: ~128 blocks, 16k embedding, 512
// experts, a 1M-token context). They are checked where the metadata is read, before anything is sized from
// it, so a forged value fails at once with an error naming the key and the file instead of allocating
// gigabytes (a 10^7 block_count used to cost 2.2 GB and 6 s before its error, 2^31 a std::bad_alloc).
#pragma once

#include <cstdint>

namespace sy::model {

inline constexpr int64_t kMaxBlockCount = 1024;                 // <arch>.block_count
inline constexpr int64_t kMaxContextLength = int64_t{1} << 24;  // <arch>.context_length (16 M tokens)
inline constexpr int64_t kMaxDim = int64_t{1} << 20;            // widths, head counts and head dimensions
inline constexpr int64_t kMaxExperts = int64_t{1} << 14;        // <arch>.expert_count
inline constexpr int64_t kMaxVocab = int64_t{1} << 24;          // the vocabulary size

}  // namespace sy::model
