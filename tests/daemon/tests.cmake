# `tempo run` driven as a user would (label `integration`).
if(TEMPO_BUILD_TOOLS AND TEMPO_WITH_SQLITE)
  tempo_add_test(NAME test_tempo_run
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tempo_run.c
    LABELS integration TIMEOUT 300)
  add_dependencies(test_tempo_run tempo_cli)
endif()

# The store administration commands (tempo ls|show|add|pause|resume|rm|
# run-now|results) against a running `tempo run` daemon's store.
if(TEMPO_BUILD_TOOLS AND TEMPO_WITH_SQLITE)
  tempo_add_test(NAME test_tempo_admin
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tempo_admin.c
    LABELS integration TIMEOUT 300)
  add_dependencies(test_tempo_admin tempo_cli)
endif()
