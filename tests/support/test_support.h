// Helpers shared by the test executables: where the conformance data and scratch space are.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace sy::test {

// ../shared/conformance (set at configure time; SY_SHARED_DIR may override at run time).
std::filesystem::path conformance_dir();
// A fresh, empty directory for one test's files, removed by the OS eventually (under the build tree).
std::filesystem::path scratch_dir(const std::string& name);
// Every *.gguf in conformance/models, sorted.
std::vector<std::filesystem::path> conformance_models();
std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path);

}  // namespace sy::test
