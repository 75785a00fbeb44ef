// One fuzz target per parser: SY_FUZZ_TARGET(name) { ...body using `data` and `size`... } defines
// sy::fuzz::name(), which the unit tests call to replay the seed corpus and the kept regression inputs, and — in
// the libFuzzer build only (SY_LIBFUZZER) — libFuzzer's entry point calling it.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef SY_LIBFUZZER
#define SY_FUZZ_ENTRY_POINT(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return ::sy::fuzz::name(data, size); }
#else
#define SY_FUZZ_ENTRY_POINT(name)
#endif

#define SY_FUZZ_TARGET(name)                  \
  namespace sy::fuzz {                        \
  int name(const uint8_t* data, size_t size); \
  }                                           \
  SY_FUZZ_ENTRY_POINT(name)                   \
  int sy::fuzz::name(const uint8_t* data, size_t size)
