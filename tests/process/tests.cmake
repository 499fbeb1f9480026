# The process executor (lib/exec/process*.c, include/tempo/process.h) with
# real child processes on a real loop (libev): the run alone
# (test_process_run, internal API) and as a scheduler task
# (test_process_task). The pure parts have unit tests in
# tests/unit/test_exec_process_*.c.
if(TARGET tempo_ev_static)
  foreach(tempo_process_test process_run process_task)
    tempo_add_test(NAME test_${tempo_process_test}
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${tempo_process_test}.c ${CMAKE_CURRENT_LIST_DIR}/process_fixture.c
      LINK tempo_ev_static Threads::Threads
      LABELS unit process TIMEOUT 180)
  endforeach()
endif()
