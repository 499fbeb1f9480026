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

# The same program on libuv and on a private GMainContext; the checks they
# share with each other live in basic_cases.c, the process handling in
# example_run.c.
if(TEMPO_BUILD_EXAMPLES)
  foreach(loop uv glib)
    tempo_add_test(NAME test_example_${loop}_basic
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_example_${loop}_basic.c ${CMAKE_CURRENT_LIST_DIR}/basic_cases.c
              ${CMAKE_CURRENT_LIST_DIR}/example_run.c
      LABELS example TIMEOUT 180
      ARGS $<TARGET_FILE:example_${loop}_basic>)
    add_dependencies(test_example_${loop}_basic example_${loop}_basic)
  endforeach()
endif()

# The GUI toolkits' examples are built only where GTK 3 / Qt 5 are found
# (examples/CMakeLists.txt, configured after this file, which also adds the
# build dependencies). The path is given when the target exists and is empty
# otherwise; the test then skips, naming what is missing ($<0:...> is not
# evaluated, so naming a target that does not exist is fine there).
if(TEMPO_BUILD_EXAMPLES)
  tempo_add_test(NAME test_example_gtk
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_example_gtk.c ${CMAKE_CURRENT_LIST_DIR}/example_run.c
    LABELS example TIMEOUT 180
    ARGS "$<$<TARGET_EXISTS:example_gtk_clock>:$<TARGET_FILE:example_gtk_clock>>"
    ENV "TSAN_OPTIONS=halt_on_error=1:suppressions=${CMAKE_CURRENT_LIST_DIR}/tsan-gtk.supp")
  tempo_add_test(NAME test_example_qt_tick
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_example_qt_tick.c ${CMAKE_CURRENT_LIST_DIR}/example_run.c
    LABELS example TIMEOUT 180
    ARGS "$<$<TARGET_EXISTS:example_qt_tick>:$<TARGET_FILE:example_qt_tick>>")
endif()
