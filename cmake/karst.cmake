# Helpers every subsystem's CMakeLists.txt uses.
#
# karst_portable_library(NAME SOURCES ... [DEPS lib ...])
#   Portable C (everything above arch/). For the host it becomes a static
#   library linked with the host implementation of the kernel services; for
#   a kernel it becomes an object library compiled freestanding and linked
#   whole into the image (so linker-section registration works).
#
# karst_kernel_library(NAME SOURCES ...)
#   Kernel-only code (arch, drivers, boot glue): ignored in host builds.

define_property(GLOBAL PROPERTY KARST_KERNEL_OBJLIBS
  BRIEF_DOCS "object libraries linked into the kernel" FULL_DOCS "-")
define_property(GLOBAL PROPERTY KARST_KERNEL_LIBS
  BRIEF_DOCS "static archives linked into the kernel" FULL_DOCS "-")

function(karst_portable_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  if(KARST_ARCH STREQUAL "host")
    add_library(${name} STATIC ${A_SOURCES})
    target_link_libraries(${name} PUBLIC karst_host ${A_DEPS})
  else()
    add_library(${name} OBJECT ${A_SOURCES})
    target_link_libraries(${name} PRIVATE karst_kflags)
    set_property(GLOBAL APPEND PROPERTY KARST_KERNEL_OBJLIBS ${name})
  endif()
endfunction()

function(karst_kernel_library name)
  cmake_parse_arguments(A "" "" "SOURCES" ${ARGN})
  if(NOT KARST_ARCH STREQUAL "host")
    add_library(${name} OBJECT ${A_SOURCES})
    target_link_libraries(${name} PRIVATE karst_kflags)
    set_property(GLOBAL APPEND PROPERTY KARST_KERNEL_OBJLIBS ${name})
  endif()
endfunction()
