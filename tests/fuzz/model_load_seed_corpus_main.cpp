// Writes the model_load target's seed corpus: model_load_seed_corpus OUT_DIR [SHARED_DIR]. scripts/fuzz.sh runs it.
#include <filesystem>

#include "fuzz/model_load_seeds.h"
#include "fuzz/seed_corpus.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: {} OUT_DIR [SHARED_DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const auto scratch = out / ".scratch";
  std::filesystem::create_directories(scratch);
  auto seeds = sy::fuzz::model_load_seed_inputs(scratch);
  std::filesystem::remove_all(scratch);
  return sy::fuzz::write_seed_corpus("model_load_seed_corpus", seeds, out);
}
