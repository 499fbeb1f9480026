# Multi-process tests (label `integration`): real scheduler processes
# (mp_node) sharing one store. SQLite here; the MongoDB run registers in
# tests/store_mongo/tests.cmake's fixture when FerretDB is available.
set(TEMPO_INTEGRATION_DIR ${CMAKE_CURRENT_LIST_DIR})
if(TARGET tempo_ev_static AND TEMPO_WITH_SQLITE)
  add_executable(mp_node ${TEMPO_INTEGRATION_DIR}/mp_node.c)
  target_link_libraries(mp_node PRIVATE tempo_ev_static tempo_warnings)
  tempo_add_test(NAME test_multiprocess_sqlite
    SOURCES ${TEMPO_INTEGRATION_DIR}/test_multiprocess.c
    LINK tempo_static
    ARGS sqlite
    LABELS integration TIMEOUT 400)
  add_dependencies(test_multiprocess_sqlite mp_node)
endif()
