// What the CPU we run on supports, detected once (cpuid + OS support for the register state).
#pragma once

#include <string>
#include <string_view>

namespace sy::kernels {

struct CpuFeatures {
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, VL, DQ
  bool avx512vnni = false;
  bool avx512bf16 = false;

  bool supports(std::string_view isa) const;  // "scalar", "avx2", "avx512", "avx512vnni"
  std::string to_string() const;
};

// Detected once; the environment variable SWITCHYARD_MAX_ISA (scalar, avx2, avx512, avx512vnni) caps it.
const CpuFeatures& cpu_features();

}  // namespace sy::kernels
