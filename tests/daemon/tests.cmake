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
  if(TEMPO_WITH_MONGO)
    # Two daemons on one MongoDB store (the FerretDB fixture of
    # tests/store_mongo/tests.cmake): each fire runs once.
    add_test(NAME test_tempo_run_mongodb COMMAND test_tempo_run mongodb)
    set_tests_properties(test_tempo_run_mongodb PROPERTIES
      LABELS "integration;mongo" TIMEOUT 300 FIXTURES_REQUIRED mongo_server RESOURCE_LOCK ferretdb
      SKIP_RETURN_CODE 77
      ENVIRONMENT "TEMPO_SOURCE_DIR=${PROJECT_SOURCE_DIR};TEMPO_BINARY_DIR=${PROJECT_BINARY_DIR};TEMPO_MONGO_URI_FILE=${PROJECT_BINARY_DIR}/tests/mongo-server/uri;TSAN_OPTIONS=halt_on_error=1:suppressions=${PROJECT_SOURCE_DIR}/tests/store_mongo/tsan-mongoc.supp")
  endif()
endif()
