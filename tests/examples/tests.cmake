# The example programs, run as a user runs them (label: example). The
# binary's path is the test's argument, so the test always runs the example
# built in the same tree (in a sanitizer build, the instrumented one).
# examples/ is added after tests/, so test for the option, not the target.
if(TEMPO_BUILD_EXAMPLES)
  tempo_add_test(NAME test_example_ev_basic
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_example_ev_basic.c
    LABELS example TIMEOUT 120
    ARGS $<TARGET_FILE:example_ev_basic>)
  # ctest does not build; make `cmake --build` of the test also build the example.
  add_dependencies(test_example_ev_basic example_ev_basic)
endif()
