#include "support/test_support.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

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

std::vector<std::filesystem::path> find_conformance_models() {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(conformance_dir() / "models", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".gguf") out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::filesystem::path> conformance_models() {
  auto out = find_conformance_models();
  if (out.empty())
    throw std::runtime_error("no *.gguf conformance models in " + (conformance_dir() / "models").string() +
                             " (set SY_SHARED_DIR to the folder holding conformance/)");
  return out;
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, uint64_t expected_bytes) {
  auto bytes = read_file_bytes(path);
  if (bytes.size() != expected_bytes)
    throw std::runtime_error(path.string() + " is " + std::to_string(bytes.size()) + " bytes; the case implies " +
                             std::to_string(expected_bytes));
  return bytes;
}

std::vector<std::filesystem::path> conformance_model_params() {
  auto models = find_conformance_models();
  // No models would instantiate no test, and the suite would pass: one empty case fails in the body instead.
  if (models.empty()) models.emplace_back();
  return models;
}

std::string model_param_name(const std::filesystem::path& model) {
  if (model.empty()) return "NoModels";
  std::string s = model.stem().string();
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

std::vector<std::filesystem::path> fuzz_inputs(const std::string& target, const std::string& kind) {
  std::vector<std::filesystem::path> out;
  const auto dir = std::filesystem::path(SY_SOURCE_DIR) / "tests/fuzz" / kind / target;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "README.md") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sy::test
