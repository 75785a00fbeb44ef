// Helpers shared by the test executables: where the conformance data and scratch space are.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sy::test {

// ../shared/conformance (set at configure time; SY_SHARED_DIR may override at run time).
std::filesystem::path conformance_dir();
// A fresh, empty directory for one test's files, removed by the OS eventually (under the build tree).
std::filesystem::path scratch_dir(const std::string& name);
// Every *.gguf in conformance/models, sorted. Throws std::runtime_error naming the folder when it is missing or
// holds none, so a test looping over the models fails rather than passing having checked nothing.
std::vector<std::filesystem::path> conformance_models();
// The same without the throw: empty when there are none. For test-parameter generators, which must then add a
// case that fails (an empty list would instantiate no test, and an empty suite passes).
std::vector<std::filesystem::path> find_conformance_models();
// Test parameters over the conformance models: find_conformance_models(), or one empty path when there are none
// (its test must fail on it: model_param_name calls it "NoModels").
std::vector<std::filesystem::path> conformance_model_params();
// A gtest parameter name for a model path: its stem with every non-alphanumeric character as '_'.
std::string model_param_name(const std::filesystem::path& model);
// The whole file. Throws std::runtime_error naming the file when it cannot be opened.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);
// The whole file, which must be exactly `expected_bytes` long (a reference file the case's shape sizes): throws
// std::runtime_error naming the file and both sizes otherwise.
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path, uint64_t expected_bytes);

// The inputs kept for a fuzz target (tests/fuzz/regressions/TARGET/, tests/fuzz/seeds/TARGET/ with `kind`
// "seeds"): every file but README.md, sorted; empty when the folder does not exist.
std::vector<std::filesystem::path> fuzz_inputs(const std::string& target, const std::string& kind = "regressions");

}  // namespace sy::test
