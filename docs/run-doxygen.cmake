# run-doxygen.cmake: the `docs` target's script (cmake -P), see CMakeLists.txt.
#
#   cmake -DDOXYGEN=/usr/bin/doxygen -DCONFIGS="Doxyfile.main|Doxyfile.01-uts|..."
#         -DLOGS="main.warnings|..." -DHTML_DIR=build/docs/html -P run-doxygen.cmake
#
# Runs Doxygen on each configuration in order (the main site first: the step
# sites read its tag file), then reports the number of warnings and where
# they are.  Warnings are not fatal; Doxygen failing is.

foreach(var IN ITEMS DOXYGEN CONFIGS LOGS HTML_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run-doxygen.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" CONFIGS "${CONFIGS}")
string(REPLACE "|" ";" LOGS "${LOGS}")

# The site is generated whole: start from nothing, so a renamed step leaves
# no stale pages behind.  Doxygen creates only the last level of HTML_OUTPUT.
file(REMOVE_RECURSE "${HTML_DIR}")
file(MAKE_DIRECTORY "${HTML_DIR}/steps")

foreach(config log IN ZIP_LISTS CONFIGS LOGS)
  file(REMOVE "${log}")
  execute_process(COMMAND "${DOXYGEN}" "${config}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    set(errors "")
    if(EXISTS "${log}")
      file(READ "${log}" errors)   # QUIET Doxygen writes its errors there too
    endif()
    message(FATAL_ERROR "docs: doxygen ${config} failed (${status})\n${errors}")
  endif()
endforeach()

set(total 0)
set(noisy "")
foreach(log IN LISTS LOGS)
  if(EXISTS "${log}")
    file(STRINGS "${log}" warnings REGEX "warning:")
    list(LENGTH warnings n)
    if(n GREATER 0)
      math(EXPR total "${total} + ${n}")
      list(APPEND noisy "${log}")
    endif()
  endif()
endforeach()

if(total GREATER 0)
  list(JOIN noisy " " noisy_text)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "docs: ${total} Doxygen warning(s), not fatal: see ${noisy_text}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "docs: open ${HTML_DIR}/index.html")
