# The MongoDB store's tests (label `mongo`; the conformance runner also
# `conformance`), against a FerretDB server that a ctest fixture starts
# (scripts/ferretdb-test.sh, state in the build tree) and stops after the
# last of them. Tests find its URI through TEMPO_MONGO_URI_FILE — or use
# $TEMPO_TEST_MONGODB_URI, in which case the fixture starts nothing. When no
# server can be started, the fixture passes and the tests skip with its
# reason (and fail under CI=true: tempo_test_skip).
if(NOT TARGET tempo_mongo)
  return()
endif()

set(TEMPO_MONGO_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
set(TEMPO_MONGO_STATE ${PROJECT_BINARY_DIR}/tests/mongo-server)
set(TEMPO_MONGO_SCRIPT ${PROJECT_SOURCE_DIR}/scripts/ferretdb-test.sh)

add_test(NAME mongo_server_start COMMAND bash ${TEMPO_MONGO_SCRIPT} start ${TEMPO_MONGO_STATE})
set_tests_properties(mongo_server_start PROPERTIES FIXTURES_SETUP mongo_server LABELS mongo TIMEOUT 60
  ENVIRONMENT "TEMPO_FERRETDB_SOFT=1;TEMPO_FERRETDB_FRESH=1")
add_test(NAME mongo_server_stop COMMAND bash ${TEMPO_MONGO_SCRIPT} stop ${TEMPO_MONGO_STATE})
set_tests_properties(mongo_server_stop PROPERTIES FIXTURES_CLEANUP mongo_server LABELS mongo TIMEOUT 60)

add_library(tempo_mongo_test STATIC ${TEMPO_MONGO_TEST_DIR}/mongo_test.c)
target_include_directories(tempo_mongo_test PUBLIC ${TEMPO_MONGO_TEST_DIR})
target_link_libraries(tempo_mongo_test PUBLIC tempo_mongo tempo_test_support PRIVATE tempo_warnings)

set(TEMPO_MONGO_TSAN "TSAN_OPTIONS=halt_on_error=1:suppressions=${TEMPO_MONGO_TEST_DIR}/tsan-mongoc.supp")
set(TEMPO_MONGO_ENV "TEMPO_MONGO_URI_FILE=${TEMPO_MONGO_STATE}/uri;${TEMPO_MONGO_TSAN}")

tempo_add_test(NAME test_store_conformance_mongo
  SOURCES ${PROJECT_SOURCE_DIR}/tests/conformance/store_mongo.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS conformance mongo ENV ${TEMPO_MONGO_ENV} FIXTURES_REQUIRED mongo_server TIMEOUT 600)

# Quarantine of undecodable records, through the conformance harness.
tempo_add_test(NAME test_mongo_quarantine
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_quarantine.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS mongo ENV ${TEMPO_MONGO_ENV} FIXTURES_REQUIRED mongo_server)

# Two store instances ("processes") on one database, acquiring at once.
tempo_add_test(NAME test_mongo_concurrent
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_concurrent.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS mongo ENV ${TEMPO_MONGO_ENV} FIXTURES_REQUIRED mongo_server TIMEOUT 600)

# What exactly-once rests on: the server's atomic primitives under
# concurrent clients, and the store's lease moves racing across two
# instances (late release vs takeover or reaping, a job made again after it
# ran, a claim whose maker died).
tempo_add_test(NAME test_mongo_races
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_races.c
  LINK tempo_store_conformance tempo_mongo_test Threads::Threads
  LABELS mongo ENV ${TEMPO_MONGO_ENV} FIXTURES_REQUIRED mongo_server TIMEOUT 300)

# Jobs taken at their schedule's release: leased at insertion, and a job
# id still runs once (second copies, a maker or reaper that died between
# its writes).
tempo_add_test(NAME test_mongo_take
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_take.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS mongo ENV ${TEMPO_MONGO_ENV} FIXTURES_REQUIRED mongo_server TIMEOUT 300)

# Bad URIs and options, and a server that is not there (no fixture needed).
tempo_add_test(NAME test_mongo_errors
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_errors.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS mongo ENV ${TEMPO_MONGO_TSAN})

# A server of its own, stopped and restarted mid-test.
tempo_add_test(NAME test_mongo_server_down
  SOURCES ${TEMPO_MONGO_TEST_DIR}/test_mongo_server_down.c
  LINK tempo_store_conformance tempo_mongo_test
  LABELS mongo TIMEOUT 300
  ENV "TEMPO_MONGO_SCRIPT=${TEMPO_MONGO_SCRIPT};TEMPO_MONGO_DOWN_STATE=${PROJECT_BINARY_DIR}/tests/mongo-down;${TEMPO_MONGO_TSAN}")

# One FerretDB serves them all, and it is slow under concurrent load (most
# queries scan a collection): run them one at a time, not beside each other.
set_tests_properties(test_store_conformance_mongo test_mongo_quarantine test_mongo_concurrent test_mongo_races
  test_mongo_take PROPERTIES RESOURCE_LOCK ferretdb)
