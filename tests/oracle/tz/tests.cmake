# Time zones against Python's zoneinfo (label: oracle).
# The generator runs first as a fixture and writes the data into the build
# tree, so the expected values always come from the installed tzdata.
set(tz_oracle_data ${PROJECT_BINARY_DIR}/tests/oracle/tz/tz_oracle.txt)
if(TEMPO_PYTHON)
  add_test(NAME tz_oracle_generate
    COMMAND ${TEMPO_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/gen_tz_oracle.py ${tz_oracle_data})
  set_tests_properties(tz_oracle_generate PROPERTIES LABELS oracle TIMEOUT 600
    FIXTURES_SETUP tz_oracle_data)
  tempo_add_test(NAME test_tz_oracle SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tz_oracle.c
    LINK tempo_tz LABELS oracle ARGS ${tz_oracle_data} FIXTURES_REQUIRED tz_oracle_data)
else()
  tempo_add_test(NAME test_tz_oracle SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tz_oracle.c
    LINK tempo_tz LABELS oracle ARGS ${tz_oracle_data}
    ENV "TEMPO_TZ_ORACLE_SKIP=no python3 interpreter found (TEMPO_PYTHON)")
endif()
