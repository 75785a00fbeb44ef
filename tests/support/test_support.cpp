#include "support/test_support.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace sy::test {

std::filesystem::path conformance_dir() {
  if (const char* env = std::getenv("SY_SHARED_DIR")) return std::filesystem::path(env) / "conformance";
  return std::filesystem::path(SY_SHARED_DIR) / "conformance";
}

std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::path(SY_BINARY_DIR) / "test-scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::filesystem::path> conformance_models() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(conformance_dir() / "models"))
    if (e.path().extension() == ".gguf") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace sy::test
