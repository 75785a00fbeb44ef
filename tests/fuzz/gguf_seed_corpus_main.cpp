// Writes the GGUF reader's seed corpus: gguf_seed_corpus OUT_DIR [SHARED_DIR]. With SHARED_DIR (the shared/
// folder), shrunken copies of its conformance models are included. scripts/fuzz.sh runs it.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "fuzz/gguf_seeds.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} OUT_DIR [SHARED_DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  const auto scratch = out / ".scratch";
  std::filesystem::create_directories(scratch);
  std::vector<std::filesystem::path> models;
  if (argc > 2) {
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(argv[2]) / "conformance/models"))
      if (e.path().extension() == ".gguf") models.push_back(e.path());
    std::sort(models.begin(), models.end());
  }
  auto seeds = sy::fuzz::gguf_seed_inputs(scratch, models);
  std::filesystem::remove_all(scratch);
  if (!seeds) {
    fmt::print(stderr, "gguf_seed_corpus: {}\n", seeds.error().message);
    return 1;
  }
  for (const auto& seed : *seeds) {
    std::ofstream f(out / seed.name, std::ios::binary);
    f.write(reinterpret_cast<const char*>(seed.bytes.data()), static_cast<std::streamsize>(seed.bytes.size()));
    if (!f) {
      fmt::print(stderr, "gguf_seed_corpus: cannot write {}\n", (out / seed.name).string());
      return 1;
    }
  }
  fmt::print("gguf_seed_corpus: {} seeds in {}\n", seeds->size(), out.string());
  return 0;
}
