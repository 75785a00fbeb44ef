// What every seed-corpus builder (tests/fuzz/<name>_seed_corpus_main.cpp) does with its seeds: writes each to
// OUT_DIR under its name. scripts/fuzz.sh runs the builders as `<name>_seed_corpus OUT_DIR SHARED_DIR`.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "fuzz/gguf_seeds.h"

namespace sy::fuzz {

inline int write_seed_corpus(const char* tool, const Result<std::vector<SeedInput>>& seeds,
                             const std::filesystem::path& out) {
  if (!seeds) {
    fmt::print(stderr, "{}: {}\n", tool, seeds.error().message);
    return 1;
  }
  for (const auto& seed : *seeds) {
    std::ofstream f(out / seed.name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(seed.bytes.data()), static_cast<std::streamsize>(seed.bytes.size()));
    if (!f) {
      fmt::print(stderr, "{}: cannot write {}\n", tool, (out / seed.name).string());
      return 1;
    }
  }
  fmt::print("{}: {} seeds in {}\n", tool, seeds->size(), out.string());
  return 0;
}

}  // namespace sy::fuzz
