# cmake -DDOXYGEN=<doxygen> -DSRC=<source dir> -DOUT=<output dir> -P check_doxygen.cmake
# Runs doxygen from SRC on the top-level Doxyfile with these overrides: every
# warning fails the run (WARN_AS_ERROR=FAIL_ON_WARNINGS), the output goes to
# OUT (HTML as configured, plus XML). Doxygen does not warn about an
# undocumented enum value, so the XML is then searched for any.
cmake_minimum_required(VERSION 3.25)
foreach(v DOXYGEN SRC OUT)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_doxygen.cmake: -D${v}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
file(READ "${SRC}/Doxyfile" config)
string(APPEND config "
# ---- overrides of tests/docs/check_doxygen.cmake ----
OUTPUT_DIRECTORY = \"${OUT}\"
WARN_AS_ERROR = FAIL_ON_WARNINGS
WARN_LOGFILE =
GENERATE_XML = YES
")
file(WRITE "${OUT}/Doxyfile" "${config}")

execute_process(COMMAND "${DOXYGEN}" "${OUT}/Doxyfile"
  WORKING_DIRECTORY "${SRC}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR err MATCHES "(warning|error):")
  message(FATAL_ERROR "doxygen failed (exit ${rc}); every public function, macro, "
          "typedef, struct member and parameter of include/mmnsim/*.h must be "
          "documented and every doc comment must parse:\n${err}${out}")
endif()

# <enumvalue> elements with neither a brief nor a detailed description.
file(GLOB xml_files "${OUT}/xml/*.xml")
set(undocumented "")
foreach(f ${xml_files})
  file(READ "${f}" x)
  string(REGEX MATCH "<compoundname>([^<]*)</compoundname>" _ "${x}")
  set(where "${CMAKE_MATCH_1}")
  while(TRUE)
    string(FIND "${x}" "<enumvalue " at)
    if(at EQUAL -1)
      break()
    endif()
    string(SUBSTRING "${x}" ${at} -1 x)
    string(FIND "${x}" "</enumvalue>" end)
    string(SUBSTRING "${x}" 0 ${end} value)
    string(SUBSTRING "${x}" ${end} -1 x)
    if(NOT value MATCHES "<para>")
      string(REGEX MATCH "<name>([^<]*)</name>" _ "${value}")
      list(APPEND undocumented "  ${CMAKE_MATCH_1} (${where})")
    endif()
  endwhile()
endforeach()
if(undocumented)
  list(REMOVE_DUPLICATES undocumented)
  list(JOIN undocumented "\n" text)
  message(FATAL_ERROR "undocumented enum values (add a /**< ... */ to each):\n${text}")
endif()
message(STATUS "doxygen: no warning, every enum value documented (${OUT}/html/index.html)")
