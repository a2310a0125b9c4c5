# run-doxygen.cmake: the `docs` target's script (cmake -P), see CMakeLists.txt.
#
#   cmake -DDOXYGEN=/usr/bin/doxygen -DCONFIGS="Doxyfile.main|Doxyfile.01-uts|..."
#         -DLOGS="main.warnings|..." -DHTML_DIR=build/docs/html
#         -DDOT=/usr/bin/dot -DPICTURES="steps/07-netns/topology.dot|html/steps/07-netns/topology.svg|..."
#         -P run-doxygen.cmake
#
# Runs Doxygen on each configuration in order (the main site first: the step
# sites read its tag file), renders the pictures (PICTURES: pairs of a .dot
# source and the .svg to write) with Graphviz, then prints the warnings.
# Doxygen or dot failing is fatal; warnings are fatal when the environment
# has CI=true (Doxygen's WARN_AS_ERROR = FAIL_ON_WARNINGS), else reported.

foreach(var IN ITEMS DOXYGEN CONFIGS LOGS HTML_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run-doxygen.cmake: -D${var}=... is required")
  endif()
endforeach()
string(REPLACE "|" ";" CONFIGS "${CONFIGS}")
string(REPLACE "|" ";" LOGS "${LOGS}")
string(REPLACE "|" ";" PICTURES "${PICTURES}")

# Doxyfile.in reads WARN_AS_ERROR from this variable.
if("$ENV{CI}" STREQUAL "true")
  set(ENV{NSRUN_DOXYGEN_WARN_AS_ERROR} FAIL_ON_WARNINGS)
else()
  set(ENV{NSRUN_DOXYGEN_WARN_AS_ERROR} NO)
endif()

# The site is generated whole: start from nothing, so a renamed step leaves
# no stale pages behind.  Doxygen creates only the last level of HTML_OUTPUT.
file(REMOVE_RECURSE "${HTML_DIR}")
file(MAKE_DIRECTORY "${HTML_DIR}/steps")

# Every warning of every log, printed; the number of them.
function(report_warnings out_total)
  set(total 0)
  foreach(log IN LISTS LOGS)
    if(EXISTS "${log}")
      file(STRINGS "${log}" lines)
      foreach(line IN LISTS lines)
        if(line MATCHES "warning:|error:")
          math(EXPR total "${total} + 1")
          execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${line}")
        endif()
      endforeach()
    endif()
  endforeach()
  set(${out_total} ${total} PARENT_SCOPE)
endfunction()

foreach(config log IN ZIP_LISTS CONFIGS LOGS)
  file(REMOVE "${log}")
  execute_process(COMMAND "${DOXYGEN}" "${config}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    report_warnings(total)   # QUIET Doxygen writes its errors there too
    message(FATAL_ERROR "docs: doxygen ${config} failed (${status}); "
                        "with CI=true every warning above is an error")
  endif()
endforeach()

list(LENGTH PICTURES n)
if(n GREATER 0 AND NOT DOT)
  message(FATAL_ERROR "docs: Graphviz's dot is not installed, the chapters' pictures cannot be rendered: sudo make deps")
endif()
while(PICTURES)
  list(POP_FRONT PICTURES source svg)
  execute_process(COMMAND "${DOT}" -Tsvg "-o${svg}" "${source}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "docs: dot -Tsvg ${source} failed (${status})")
  endif()
endwhile()

report_warnings(total)
if(total GREATER 0)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "docs: ${total} Doxygen warning(s) above (fatal with CI=true)")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "docs: open ${HTML_DIR}/index.html")
