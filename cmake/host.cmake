# Host build: portable subsystems against tests/host (libc + pthreads).
#
# KARST_SANITIZE=address,undefined (or thread) builds everything with those
# sanitizers; KARST_COVERAGE=ON adds gcov instrumentation.
set(KARST_SANITIZE "" CACHE STRING "sanitizers for host builds, e.g. address,undefined")
option(KARST_COVERAGE "gcov instrumentation for host builds" OFF)

enable_testing()
find_package(PkgConfig REQUIRED)
pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)

add_compile_options(-Wall -Wextra -Werror -Wno-unused-parameter -g -fno-omit-frame-pointer)
add_compile_definitions(KARST_HOST=1 KARST_DEBUG=1 _GNU_SOURCE)
if(KARST_SANITIZE)
  add_compile_options(-fsanitize=${KARST_SANITIZE} -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${KARST_SANITIZE})
endif()
# The fuzz build (make fuzz: KARST_FUZZ=ON) at -O1, as libFuzzer's
# documentation advises: at -O0 fuzz_cowfs ran some 40% slower, and the
# sanitizers check the same accesses.
if(KARST_FUZZ)
  add_compile_options(-O1 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()
if(KARST_COVERAGE)
  add_compile_options(--coverage -O0)
  add_link_options(--coverage)
endif()

add_library(karst_host INTERFACE)
target_include_directories(karst_host INTERFACE
  ${CMAKE_SOURCE_DIR}/tests/host/include ${CMAKE_SOURCE_DIR}/kernel/include)
target_link_libraries(karst_host INTERFACE karst_hostsvc)

# karst_check_test(NAME SOURCES ... LIBS ... [LABELS ...])
#   A Check suite run by ctest.
function(karst_check_test name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  # check_markpoint.c: only a change of location reaches Check's pipe.
  add_executable(${name} ${A_SOURCES} ${CMAKE_SOURCE_DIR}/tests/host/check_markpoint.c)
  target_link_libraries(${name} PRIVATE ${A_LIBS} karst_host PkgConfig::CHECK)
  target_link_options(${name} PRIVATE -Wl,--wrap=_mark_point)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300 ENVIRONMENT "CK_DEFAULT_TIMEOUT=60")
  if(A_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}")
  endif()
  # make check builds only these in its TSan tree (ctest -L concurrent).
  if("concurrent" IN_LIST A_LABELS)
    if(NOT TARGET karst_concurrent_tests)
      add_custom_target(karst_concurrent_tests)
    endif()
    add_dependencies(karst_concurrent_tests ${name})
  endif()
endfunction()
