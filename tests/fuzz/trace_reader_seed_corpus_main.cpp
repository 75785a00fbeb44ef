// Writes the trace_reader target's seed corpus: trace_reader_seed_corpus OUT_DIR SHARED_DIR (traces of the
// shared/ folder's qwen3moe-tiny conformance model). scripts/fuzz.sh runs it.
#include <filesystem>

#include "fuzz/seed_corpus.h"
#include "fuzz/trace_reader_seeds.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: {} OUT_DIR SHARED_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const auto scratch = out / ".scratch";
  std::filesystem::create_directories(scratch);
  auto seeds = sy::fuzz::trace_reader_seed_inputs(
      scratch, std::filesystem::path(argv[2]) / "conformance/models/qwen3moe-tiny.q8_0.gguf");
  std::filesystem::remove_all(scratch);
  return sy::fuzz::write_seed_corpus("trace_reader_seed_corpus", seeds, out);
}
