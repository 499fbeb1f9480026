# `tempo run` driven as a user would (label `integration`), and the store
# administration commands (tempo ls|show|add|pause|resume|rm|run-now|results)
# against a running `tempo run` daemon's store. Both drive the binary through
# daemon_support.c.
if(TEMPO_BUILD_TOOLS AND TEMPO_WITH_SQLITE)
  foreach(tempo_daemon_test tempo_run tempo_admin)
    tempo_add_test(NAME test_${tempo_daemon_test}
      SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${tempo_daemon_test}.c ${CMAKE_CURRENT_LIST_DIR}/daemon_support.c
      LABELS integration TIMEOUT 300)
    add_dependencies(test_${tempo_daemon_test} tempo_cli)
  endforeach()
endif()
