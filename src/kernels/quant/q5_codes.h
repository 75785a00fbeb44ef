// The five-bit codes shared by Q5_0 and Q5_1 blocks: low nibble in qs, fifth bit in the 32-bit qh.
// Defined in a baseline-compiled file (q5_codes.cpp) so no ISA-flagged copy can reach the linker.
#pragma once

#include <cstdint>

namespace sy::kernels {

// The 32 codes of one block, in element order: element j < 16 is the low nibble of qs[j] plus bit j of qh,
// element j + 16 the high nibble of qs[j] plus bit j + 16.
void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int out[32]);

}  // namespace sy::kernels
