# `format`, `format-check` and `lint` targets (STYLE.md §15), present when the tools are installed
# (scripts/install-deps.sh installs clang-format-14 and clang-tidy-14).

find_program(SY_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(SY_CLANG_FORMAT)
  # The folders scripts/format.sh lists are kept formatted; scripts/test.sh runs the check.
  add_custom_target(format COMMAND "${CMAKE_SOURCE_DIR}/scripts/format.sh"
                    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" COMMENT "clang-format" VERBATIM)
  add_custom_target(format-check COMMAND "${CMAKE_SOURCE_DIR}/scripts/format.sh" --check
                    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" COMMENT "clang-format --dry-run" VERBATIM)
endif()

find_program(SY_RUN_CLANG_TIDY NAMES run-clang-tidy-14 run-clang-tidy)
find_program(SY_CLANG_TIDY NAMES clang-tidy-14 clang-tidy)
if(SY_RUN_CLANG_TIDY AND SY_CLANG_TIDY)
  # .clang-tidy over every source in src/ and tests/ of this build (compile_commands.json). Slow: minutes.
  add_custom_target(lint
    COMMAND "${SY_RUN_CLANG_TIDY}" -quiet -clang-tidy-binary "${SY_CLANG_TIDY}" -p "${CMAKE_BINARY_DIR}"
            -j 2 "${CMAKE_SOURCE_DIR}/(src|tests)/"
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" COMMENT "clang-tidy" VERBATIM USES_TERMINAL)
endif()
