# cmake -DSRC=<source dir> -P check_ci_command.cmake
# .ci/run must run exactly the README's test command: fails unless the
# command line of .ci/run (the one starting with "sh scripts/deps.sh") is
# also a line of README.md.
cmake_minimum_required(VERSION 3.25)
file(STRINGS "${SRC}/.ci/run" ci REGEX "^sh scripts/deps.sh")
list(LENGTH ci n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR ".ci/run: expected one line starting with 'sh scripts/deps.sh', found ${n}")
endif()
file(READ "${SRC}/README.md" readme)
string(FIND "\n${readme}\n" "\n${ci}\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR ".ci/run runs\n  ${ci}\nwhich is not a line of README.md: keep them identical")
endif()
message(STATUS ".ci/run runs the README's test command")
