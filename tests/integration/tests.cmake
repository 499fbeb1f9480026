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
if(TARGET tempo_ev_static AND TEMPO_WITH_MONGO AND TEMPO_WITH_SQLITE)
  # The fixture mongo_server is tests/store_mongo/tests.cmake's FerretDB.
  tempo_add_test(NAME test_multiprocess_mongodb
    SOURCES ${TEMPO_INTEGRATION_DIR}/test_multiprocess.c
    LINK tempo_static
    ARGS mongodb
    # The nodes inherit the suppressions: libmongoc's own threads race
    # inside the uninstrumented driver (tests/store_mongo/tsan-mongoc.supp).
    ENV "TEMPO_MONGO_URI_FILE=${PROJECT_BINARY_DIR}/tests/mongo-server/uri;TEMPO_MONGO_SCRIPT=${PROJECT_SOURCE_DIR}/scripts/ferretdb-test.sh;TSAN_OPTIONS=halt_on_error=1:suppressions=${PROJECT_SOURCE_DIR}/tests/store_mongo/tsan-mongoc.supp"
    FIXTURES_REQUIRED mongo_server
    LABELS integration mongo TIMEOUT 900)
  add_dependencies(test_multiprocess_mongodb mp_node)
  set_tests_properties(test_multiprocess_mongodb PROPERTIES RESOURCE_LOCK ferretdb)
endif()
