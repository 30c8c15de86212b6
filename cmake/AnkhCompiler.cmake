# Compiler set-up shared by every target: ccache, warnings, sanitizers, the LibTorch PCH.

find_program(ANKH_CCACHE ccache)
if(ANKH_CCACHE)
  # The precompiled header is only cacheable with these sloppiness settings.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      ${ANKH_CCACHE})
endif()

# Warnings apply to our code only; third-party headers come in as SYSTEM through imported targets.
add_library(ankh_warnings INTERFACE)
# (-Wshadow=local is GCC's; the clang fuzz build goes without it.)
target_compile_options(ankh_warnings INTERFACE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                       -Wno-unused-parameter -Winvalid-pch)
if(ANKH_WERROR)
  target_compile_options(ankh_warnings INTERFACE -Werror)
endif()

if(ANKH_SANITIZE)
  string(REPLACE "," ";" _ankh_sanitizers "${ANKH_SANITIZE}")
  foreach(_s IN LISTS _ankh_sanitizers)
    if(NOT _s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "ANKH_SANITIZE: unknown sanitizer '${_s}' (address, undefined, thread, leak)")
    endif()
  endforeach()
  string(REPLACE ";" "," _ankh_sanitize_flag "${_ankh_sanitizers}")
  add_compile_options(-fsanitize=${_ankh_sanitize_flag} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_ankh_sanitize_flag})
endif()

# The fuzz build (scripts/fuzz.sh): coverage feedback for libFuzzer in every library, so that the
# fuzzer sees which branches of a parser an input reached; the fuzz targets link -fsanitize=fuzzer
# (tests/fuzz/CMakeLists.txt). Only clang has libFuzzer.
if(ANKH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ANKH_FUZZ needs clang (libFuzzer): configure with CMAKE_CXX_COMPILER=clang++, or use scripts/fuzz.sh")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  # Undefined behaviour stops the run like a crash, so that the fuzzer keeps the input.
  if(ANKH_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# One precompiled header with LibTorch and the heavy third-party headers, built once and reused
# by every target that includes LibTorch (REUSE_FROM needs identical flags: configuration goes
# through the generated build_config.h, never through per-target -D flags).
function(ankh_use_pch target)
  if(TARGET ankh_pch)
    target_precompile_headers(${target} REUSE_FROM ankh_pch)
  endif()
endfunction()
