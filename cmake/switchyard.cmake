# Shared build rules: warnings, sanitizers, per-ISA source flags, and one library per src/ folder.

set(SY_WARNINGS -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> -Wno-unused-parameter)
set(SY_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

function(sy_apply_common target)
  target_compile_options(${target} PRIVATE ${SY_WARNINGS})
  if(SY_SANITIZE)
    target_compile_options(${target} PRIVATE ${SY_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${SY_SANITIZER_FLAGS})
  endif()
  if(SY_FUZZ)
    # Coverage instrumentation for libFuzzer in every library; sanitizer reports must stop the run (no
    # recovery), or libFuzzer would never see a UBSan finding as a crash.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-sanitize-recover=all -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all)
  endif()
endfunction()

# Per-ISA kernels are chosen at run time, so only their own files get the ISA flags: a file named
# *_avx2.cpp, *_avx512.cpp, *_avx512vnni.cpp or *_avx512bf16.cpp is compiled for that ISA, everything else
# for the baseline. GCC 12's AVX-512 headers trip -Wuninitialized inside their own intrinsics (GCC bug
# 105593), so those files drop that warning.
set(SY_AVX512_NOWARN "-Wno-uninitialized;-Wno-maybe-uninitialized")
function(sy_set_isa_flags)
  foreach(src IN LISTS ARGN)
    if(src MATCHES "_avx512bf16\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512bf16;-mavx2;-mfma;-mf16c;-mbmi2;${SY_AVX512_NOWARN}")
    elseif(src MATCHES "_avx512vnni\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx2;-mfma;-mf16c;-mbmi2;${SY_AVX512_NOWARN}")
    elseif(src MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS
        "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx2;-mfma;-mf16c;-mbmi2;${SY_AVX512_NOWARN}")
    elseif(src MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mbmi2")
    endif()
  endforeach()
endfunction()

# sy_add_folder_library(<name> <folder> DEPS <libs...>): every .cpp below src/<folder> becomes library sy_<name>.
# Linking only along DESIGN.md's arrows is what keeps the layers honest.
function(sy_add_folder_library name folder)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/src/${folder}/*.cpp")
  if(srcs)
    add_library(sy_${name} STATIC ${srcs})
    sy_set_isa_flags(${srcs})
    target_include_directories(sy_${name} PUBLIC "${CMAKE_SOURCE_DIR}/src")
    target_link_libraries(sy_${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(sy_${name} INTERFACE)
    target_include_directories(sy_${name} INTERFACE "${CMAKE_SOURCE_DIR}/src")
    target_link_libraries(sy_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  sy_apply_common(sy_${name})
endfunction()
