# The tempo command, run as a separate process (label: tool). The binary's
# path is the test's argument, so the test always runs the tool built in the
# same tree (and, in a sanitizer build, the instrumented one).
if(TARGET tempo_cli)
  tempo_add_test(NAME test_tool_cli
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tool_cli.c
    LABELS tool
    ARGS $<TARGET_FILE:tempo_cli>)
  # ctest does not build; make `cmake --build` of the test also build the tool.
  add_dependencies(test_tool_cli tempo_cli)
endif()
