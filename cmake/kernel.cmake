# Kernel build: freestanding clang + lld for KARST_ARCH.
#
# Debug builds (the default) turn on INVARIANTS-style assertions and the
# lock-order checker (KARST_DEBUG); Release builds compile them out.
set(KARST_DEPS "${CMAKE_SOURCE_DIR}/build/deps/${KARST_ARCH}/usr")
if(NOT EXISTS "${KARST_DEPS}/include")
  message(FATAL_ERROR "missing ${KARST_DEPS}: run tools/setup-deps first")
endif()

add_library(karst_kflags INTERFACE)
target_include_directories(karst_kflags INTERFACE
  ${CMAKE_SOURCE_DIR}/kernel/impl/include
  ${CMAKE_SOURCE_DIR}/kernel/include
  ${CMAKE_SOURCE_DIR}/arch/${KARST_ARCH}/include
  ${CMAKE_SOURCE_DIR}/kernel/libc/include)
# Debian's library headers, apart from the host's /usr/include.
target_include_directories(karst_kflags SYSTEM INTERFACE ${KARST_DEPS}/include)
target_compile_options(karst_kflags INTERFACE
  -ffreestanding -fno-stack-protector -fno-omit-frame-pointer -fno-pic -fno-pie
  -fno-common -fno-strict-aliasing -Wall -Wextra -Werror -Wno-unused-parameter
  -Wno-gnu-zero-variadic-macro-arguments -g)
target_compile_definitions(karst_kflags INTERFACE
  KARST_KERNEL=1 KARST_ARCH_${KARST_ARCH}=1 "KARST_ARCH_NAME=\"${KARST_ARCH}\"")

# The kernel's own code never touches FP/SIMD registers, so interrupt and
# exception entry need not save them; Debian's libraries (lz4) may use them
# and the context switch saves them for every thread.
if(KARST_ARCH STREQUAL "x86_64")
  target_compile_options(karst_kflags INTERFACE
    -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-80387 -mno-avx)
  set(KARST_DEBIAN_ARCH x86_64-linux-gnu)
else()
  target_compile_options(karst_kflags INTERFACE
    -mgeneral-regs-only -mno-omit-leaf-frame-pointer)
  set(KARST_DEBIAN_ARCH aarch64-linux-gnu)
endif()

if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_options(karst_kflags INTERFACE -O1)
  target_compile_definitions(karst_kflags INTERFACE KARST_DEBUG=1)
else()
  target_compile_options(karst_kflags INTERFACE -O2)
endif()
# Link with ld.lld itself: clang has no bare-metal driver for these targets.
set(CMAKE_C_LINK_EXECUTABLE "ld.lld <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
set(CMAKE_C_FLAGS_DEBUG "")
set(CMAKE_C_FLAGS_RELEASE "")
set(CMAKE_ASM_FLAGS_DEBUG "")
set(CMAKE_ASM_FLAGS_RELEASE "")

# karst_link_kernel(): the image from every object library registered above,
# Debian's static archives the arch asked for, and the arch's linker script.
function(karst_link_kernel)
  get_property(objlibs GLOBAL PROPERTY KARST_KERNEL_OBJLIBS)
  get_property(libs GLOBAL PROPERTY KARST_KERNEL_LIBS)
  set(objs "")
  foreach(l ${objlibs})
    list(APPEND objs $<TARGET_OBJECTS:${l}>)
  endforeach()
  set(lds ${CMAKE_SOURCE_DIR}/arch/${KARST_ARCH}/kernel.ld)
  add_executable(karst.elf ${objs})
  set_target_properties(karst.elf PROPERTIES LINKER_LANGUAGE C LINK_DEPENDS ${lds})
  target_link_options(karst.elf PRIVATE
    -nostdlib -static -T ${lds} --build-id=none -zmax-page-size=4096 -znoexecstack
    --no-dynamic-linker -Map=${CMAKE_BINARY_DIR}/karst.map)
  target_link_libraries(karst.elf PRIVATE ${libs})
  if(COMMAND karst_arch_image)
    karst_arch_image()
  endif()
endfunction()
