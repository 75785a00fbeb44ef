// read_file and check_output_path: what they refuse, by name, and that a FIFO never blocks them.
#include "core/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/test_support.h"

namespace sy {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  return test::scratch_dir(std::string("file_io_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

template <typename T>
std::string error_of(const tl::expected<T, Error>& r) {
  return r ? std::string() : r.error().message;
}

TEST(ReadFile, ReadsARegularFileWhole) {
  const fs::path p = scratch() / "a.txt";
  write(p, std::string("one\0two", 7));
  auto text = read_file(p, "text file", 100);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, std::string("one\0two", 7));
}

TEST(ReadFile, RefusesADirectoryByName) {
  const fs::path d = scratch();
  const std::string err = error_of(read_file(d, "--expert-mask file", 100));
  EXPECT_NE(err.find("--expert-mask file '" + d.string() + "' is a directory, not a regular file"), std::string::npos)
      << err;
}

TEST(ReadFile, RefusesAFifoWithoutBlocking) {
  const fs::path f = scratch() / "fifo";
  ASSERT_EQ(::mkfifo(f.c_str(), 0600), 0);
  // No writer ever opens it: a blocking open would hang the test here.
  const std::string err = error_of(read_file(f, "text file", 100));
  EXPECT_NE(err.find("is a FIFO (named pipe), not a regular file"), std::string::npos) << err;
}

TEST(ReadFile, RefusesAFileOverTheLimit) {
  const fs::path p = scratch() / "big.txt";
  write(p, std::string(101, 'x'));
  const std::string err = error_of(read_file(p, "text file", 100));
  EXPECT_NE(err.find("is 101 bytes, more than the 100 allowed"), std::string::npos) << err;
}

TEST(ReadFile, MissingFileSaysCannotOpen) {
  const fs::path p = scratch() / "absent.txt";
  const std::string err = error_of(read_file(p, "text file", 100));
  EXPECT_NE(err.find("cannot open text file '" + p.string() + "'"), std::string::npos) << err;
}

TEST(CheckOutputPath, RefusesTheInputItselfAHardLinkAndASymlink) {
  const fs::path d = scratch();
  const fs::path model = d / "m.gguf";
  write(model, "GGUF");
  fs::create_hard_link(model, d / "hard.gguf");
  fs::create_symlink(model, d / "soft.gguf");
  const fs::path other = d / "other.bin";
  const fs::path inputs[] = {fs::path(), other, model};  // empty and missing inputs are skipped
  for (const fs::path& out : {model, d / "hard.gguf", d / "soft.gguf", d / "." / "m.gguf"}) {
    const std::string err = error_of(check_output_path(out, inputs, "--trace"));
    EXPECT_NE(err.find("--trace '" + out.string() + "' is the input file '" + model.string() + "'"), std::string::npos)
        << err;
  }
  std::ifstream in(model);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "GGUF");  // untouched
}

TEST(CheckOutputPath, AcceptsANewFileAndAnOtherExistingOne) {
  const fs::path d = scratch();
  write(d / "m.gguf", "GGUF");
  write(d / "old.bin", "x");
  const fs::path inputs[] = {d / "m.gguf"};
  EXPECT_TRUE(check_output_path(d / "new.bin", inputs, "--out"));
  EXPECT_TRUE(check_output_path(d / "old.bin", inputs, "--out"));
  EXPECT_TRUE(check_output_path(fs::path(), inputs, "--out"));  // no output asked for
}

TEST(CheckOutputPath, RefusesDirectoriesFifosAndDevices) {
  const fs::path d = scratch();
  ASSERT_EQ(::mkfifo((d / "fifo").c_str(), 0600), 0);
  EXPECT_NE(error_of(check_output_path(d, {}, "-o")).find("is a directory"), std::string::npos);
  EXPECT_NE(error_of(check_output_path(d / "fifo", {}, "-o")).find("is a FIFO"), std::string::npos);
  EXPECT_NE(error_of(check_output_path("/dev/zero", {}, "-o")).find("is a character device"), std::string::npos);
}

}  // namespace
}  // namespace sy
