#include "kernels/simd/cpu_features.h"

#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace sy::kernels {
namespace {

uint64_t xgetbv0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool fma = (c >> 12) & 1;
  const bool f16c = (c >> 29) & 1;
  if (!osxsave) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = os_avx && ((b >> 5) & 1) && fma && f16c;
  const bool avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  f.avx512 = f.avx2 && os_avx512 && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512vnni = f.avx512 && ((c >> 11) & 1);
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  if (__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1)) f.avx512bf16 = f.avx512 && ((a1 >> 5) & 1);
  return f;
}

// SWITCHYARD_MAX_ISA=scalar|avx2|avx512|avx512vnni caps what is used below what the CPU has: the AVX2 kernels
// follow llama.cpp's float order exactly, the AVX-512 ones do not yet (README, Conformance). Other values: no cap.
CpuFeatures capped(CpuFeatures f) {
  const char* env = std::getenv("SWITCHYARD_MAX_ISA");
  if (env == nullptr) return f;
  const std::string_view cap = env;
  if (cap == "scalar") return CpuFeatures{};
  if (cap == "avx2") f.avx512 = f.avx512vnni = f.avx512bf16 = false;
  if (cap == "avx512") f.avx512vnni = f.avx512bf16 = false;
  if (cap == "avx512vnni") f.avx512bf16 = false;
  return f;
}

}  // namespace

bool CpuFeatures::supports(std::string_view isa) const {
  if (isa == "scalar") return true;
  if (isa == "avx2") return avx2;
  if (isa == "avx512") return avx512;
  if (isa == "avx512vnni") return avx512vnni;
  if (isa == "avx512bf16") return avx512bf16;
  return false;
}

std::string CpuFeatures::to_string() const {
  std::string s = "scalar";
  if (avx2) s += " avx2";
  if (avx512) s += " avx512";
  if (avx512vnni) s += " avx512vnni";
  if (avx512bf16) s += " avx512bf16";
  return s;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = capped(detect());
  return features;
}

}  // namespace sy::kernels
