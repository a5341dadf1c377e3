# cmake -DCC=.. -DINC=.. -DBININC=.. -DCOMPAT=.. -DSRC=missing_symbol.c -DWORK=dir -P check_missing.cmake
# Fails unless compiling SRC against the compat tree fails with an error
# that names find_vma as not provided.
execute_process(
  COMMAND ${CC} -fsyntax-only -std=gnu11 -I${COMPAT} -I${INC} -I${BININC} ${SRC}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled: find_vma() must be a compile error")
endif()
if(NOT err MATCHES "find_vma is not provided")
  message(FATAL_ERROR "the error does not name find_vma:\n${err}")
endif()
message(STATUS "find_vma: compile error naming it, as required")
