# libFuzzer target for the cron parsers (label `fuzz`).
#
# libFuzzer needs clang, while the project builds with the default compiler
# (gcc), so the fuzzer is not a CMake target of that toolchain: a custom
# command compiles the library sources it needs (lib/util, lib/tz,
# lib/trigger) together with the fuzzer in one clang-14 invocation with
# -fsanitize=fuzzer,address,undefined. It is part of ALL, so `cmake --build`
# followed by `ctest` runs it for a short, bounded time on a copy of the seed
# corpus. Without clang-14 or its libFuzzer runtime the test reports a skip
# with the reason.
set(TEMPO_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(TEMPO_FUZZ_SECONDS 20 CACHE STRING "How long the fuzz test runs the fuzzer")

find_program(TEMPO_CLANG14 NAMES clang-14)
set(_fuzz_skip "")
if(NOT TEMPO_CLANG14)
  set(_fuzz_skip "clang-14 not found (scripts/setup.sh installs clang-14 and libclang-rt-14-dev)")
else()
  execute_process(COMMAND ${TEMPO_CLANG14} --print-runtime-dir
    OUTPUT_VARIABLE _fuzz_rt_dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  file(GLOB _fuzz_rt "${_fuzz_rt_dir}/libclang_rt.fuzzer-*.a")
  if(NOT _fuzz_rt)
    set(_fuzz_skip "clang-14's libFuzzer runtime not found in '${_fuzz_rt_dir}' (Debian: libclang-rt-14-dev)")
  endif()
endif()

if(_fuzz_skip)
  message(STATUS "fuzz: ${_fuzz_skip}; the fuzz test will skip")
  add_test(NAME fuzz_cron_parse COMMAND sh ${TEMPO_FUZZ_DIR}/run_fuzz.sh skip "${_fuzz_skip}")
else()
  file(GLOB _fuzz_lib_srcs CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/lib/util/*.c ${PROJECT_SOURCE_DIR}/lib/tz/*.c
    ${PROJECT_SOURCE_DIR}/lib/trigger/*.c)
  file(GLOB _fuzz_lib_hdrs CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/lib/util/*.h ${PROJECT_SOURCE_DIR}/lib/tz/*.h
    ${PROJECT_SOURCE_DIR}/lib/trigger/*.h ${PROJECT_SOURCE_DIR}/include/tempo/*.h)
  set(_fuzz_bin ${PROJECT_BINARY_DIR}/bin/fuzz_cron_parse)
  set(_fuzz_includes -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_BINARY_DIR}/include
    -I${PROJECT_SOURCE_DIR}/lib)
  foreach(dir ${BSON_INCLUDE_DIRS})
    list(APPEND _fuzz_includes -isystem ${dir})
  endforeach()
  add_custom_command(OUTPUT ${_fuzz_bin}
    COMMAND ${TEMPO_CLANG14} -std=c11 -g -O1 -fno-omit-frame-pointer
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
      -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DTEMPO_BUILDING
      ${_fuzz_includes}
      ${TEMPO_FUZZ_DIR}/fuzz_cron_parse.c ${_fuzz_lib_srcs}
      -o ${_fuzz_bin} ${BSON_LDFLAGS} -lpthread
    DEPENDS ${TEMPO_FUZZ_DIR}/fuzz_cron_parse.c ${_fuzz_lib_srcs} ${_fuzz_lib_hdrs}
      ${PROJECT_BINARY_DIR}/include/tempo/version.h
    COMMENT "Building libFuzzer target fuzz_cron_parse with clang-14"
    VERBATIM)
  add_custom_target(fuzz_cron_parse_build ALL DEPENDS ${_fuzz_bin})
  add_test(NAME fuzz_cron_parse
    COMMAND sh ${TEMPO_FUZZ_DIR}/run_fuzz.sh run ${_fuzz_bin} ${TEMPO_FUZZ_DIR}/corpus/cron
      ${PROJECT_BINARY_DIR}/fuzz/cron ${TEMPO_FUZZ_SECONDS} ${TEMPO_FUZZ_DIR}/cron.dict)
endif()
set_tests_properties(fuzz_cron_parse PROPERTIES LABELS fuzz TIMEOUT 300
  SKIP_RETURN_CODE ${TEMPO_SKIP_CODE})
