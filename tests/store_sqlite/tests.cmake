# The SQLite store (lib/store/sqlite): the conformance suite on real files
# (label `conformance`), and its own tests: errors and recovery, schema
# versions and migrations, query plans, quarantine, reopening, several
# processes on one file.
if(TARGET tempo_sqlite)
  set(TEMPO_SQLITE_TESTS_DIR ${CMAKE_CURRENT_LIST_DIR})

  tempo_add_test(NAME test_store_conformance_sqlite
    SOURCES ${PROJECT_SOURCE_DIR}/tests/conformance/store_sqlite.c
    LINK tempo_store_conformance tempo_sqlite
    LABELS conformance)

  # Temporary directories, the harness's factory, a side door into files.
  add_library(tempo_sqlite_test_support STATIC ${TEMPO_SQLITE_TESTS_DIR}/sqlite_test.c)
  target_include_directories(tempo_sqlite_test_support PUBLIC ${TEMPO_SQLITE_TESTS_DIR}
    PRIVATE ${PROJECT_SOURCE_DIR}/lib)
  target_link_libraries(tempo_sqlite_test_support PUBLIC tempo_store_conformance tempo_sqlite
    PRIVATE tempo_warnings)

  foreach(t errors schema plans quarantine)
    tempo_add_test(NAME test_sqlite_${t}
      SOURCES ${TEMPO_SQLITE_TESTS_DIR}/test_sqlite_${t}.c
      LINK tempo_sqlite_test_support
      LABELS unit)
  endforeach()
  foreach(t reopen processes)
    tempo_add_test(NAME test_sqlite_${t}
      SOURCES ${TEMPO_SQLITE_TESTS_DIR}/test_sqlite_${t}.c
      LINK tempo_sqlite_test_support
      LABELS integration)
  endforeach()
endif()
