# cmake -DNM=nm -DLIB=libmmnsim.so -P check_exports.cmake
# cmake -DNM=nm -DLIB=libmmnsim.a -DSTATIC=ON -P check_exports.cmake
# Fails if the shared library exports a symbol outside the mmn_ / __mmn_
# namespace (a function that lacks `static` and MMN_API is hidden anyway; this
# catches a stray MMN_API or a visibility("default") that leaks a name).
# With STATIC=ON it checks every global symbol the static archive defines,
# hidden ones included: a research program that links libmmnsim.a sees them
# all, so an internal helper must be static or carry the prefix (mmn__ for
# the library's internal ones).
cmake_minimum_required(VERSION 3.25)
if(STATIC)
  set(nm_flags -g --defined-only)
else()
  set(nm_flags -D --defined-only)
endif()
execute_process(COMMAND "${NM}" ${nm_flags} "${LIB}"
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} ${nm_flags} ${LIB} failed: ${rc}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(bad)
set(n 0)
foreach(l IN LISTS lines)
  # An archive's listing names each member ("mm.c.o:") before its symbols.
  if(l STREQUAL "" OR l MATCHES ":$")
    continue()
  endif()
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" sym "${l}")
  if(sym MATCHES "^(__)?mmn_")
    math(EXPR n "${n} + 1")
  # Linker-defined and sanitizer-runtime symbols, not ours.
  elseif(NOT sym MATCHES "^(_init|_fini|_edata|_end|__bss_start|__odr_asan[._].*|__asan_.*|__tsan_.*|__ubsan_.*)$")
    list(APPEND bad "${l}")
  endif()
endforeach()
if(bad)
  list(JOIN bad "\n  " bad)
  message(FATAL_ERROR "${LIB} defines global symbols outside mmn_/__mmn_:\n  ${bad}")
endif()
if(n EQUAL 0)
  message(FATAL_ERROR "${LIB} exports no mmn_ symbol at all")
endif()
message(STATUS "${LIB}: ${n} global symbols, all mmn_/__mmn_")
