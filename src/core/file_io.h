// The two file checks every command needs, kept in one place so each reader and writer refuses the same things:
//  - read_file: a whole small input file (prompt, mask, template, tokenizer JSON) into memory, refusing what is
//    not a regular file (a FIFO would block, a directory reads as garbage or nothing) and what is too big;
//  - check_output_path: called before an output is opened for writing, refuses a path that is one of the
//    command's inputs (same device and inode: hard links and symlinks count), a directory, a FIFO or a device.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace sy {

// Reads `path` whole. `what` names the file in errors ("text file", "--expert-mask file"): "cannot open text
// file 'x': No such file or directory", "text file 'x' is a directory, not a regular file". Opened with
// O_NONBLOCK and checked with fstat before any read, so a FIFO is refused without blocking.
Result<std::string> read_file(const std::filesystem::path& path, std::string_view what, size_t max_bytes);

// Refuses `out` when it names the same file as one of `inputs` (empty paths and inputs that do not exist are
// skipped), or when it exists and is not a regular file. `option` names the output in errors ("--trace").
// Touches nothing: call it before the output is opened, so a refused command leaves every file as it was.
Status check_output_path(const std::filesystem::path& out, std::span<const std::filesystem::path> inputs,
                         std::string_view option);

// "a directory", "a FIFO (named pipe)", "a character device", …: what a non-regular st_mode is, for errors.
std::string_view file_kind_name(unsigned mode);

}  // namespace sy
