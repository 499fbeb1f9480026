# Store conformance (label `conformance`): one suite of cases written against
# tempo_store_ops_t (store_cases*.c, store_harness.c), run by one small
# runner per store. A store of a later issue adds its runner here.
set(TEMPO_CONFORMANCE_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(tempo_store_conformance STATIC
  ${TEMPO_CONFORMANCE_DIR}/store_cases.c
  ${TEMPO_CONFORMANCE_DIR}/store_cases_schedules.c
  ${TEMPO_CONFORMANCE_DIR}/store_cases_jobs.c
  ${TEMPO_CONFORMANCE_DIR}/store_cases_life.c
  ${TEMPO_CONFORMANCE_DIR}/store_cases_decode.c
  ${TEMPO_CONFORMANCE_DIR}/store_cases_results.c
  ${TEMPO_CONFORMANCE_DIR}/store_harness.c)
target_include_directories(tempo_store_conformance PUBLIC ${TEMPO_CONFORMANCE_DIR}
  PRIVATE ${PROJECT_SOURCE_DIR}/lib)
target_link_libraries(tempo_store_conformance PUBLIC tempo_store PkgConfig::CMOCKA PRIVATE tempo_warnings)

tempo_add_test(NAME test_store_conformance_memory
  SOURCES ${TEMPO_CONFORMANCE_DIR}/store_memory.c
  LINK tempo_store_conformance
  LABELS conformance)

# The memory store out of memory: allocations fail one by one (malloc,
# calloc and realloc wrapped at link time); every failed call must answer
# ENOMEM once and change nothing. Uses the suite's harness, not its cases.
tempo_add_test(NAME test_store_memory_faults
  SOURCES ${TEMPO_CONFORMANCE_DIR}/store_memory_faults.c
  LINK tempo_store_conformance
  LABELS unit)
target_link_options(test_store_memory_faults PRIVATE
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)

# The scheduler on real loops (sched_loops.c): the same behaviour cases on
# real time, run unchanged on libev, libuv and GLib by one small runner each.
foreach(tempo_loop ev uv glib)
  if(TARGET tempo_${tempo_loop}_static)
    tempo_add_test(NAME test_sched_loops_${tempo_loop}
      SOURCES ${TEMPO_CONFORMANCE_DIR}/sched_${tempo_loop}.c ${TEMPO_CONFORMANCE_DIR}/sched_loops.c
      LINK tempo_${tempo_loop}_static Threads::Threads
      LABELS conformance TIMEOUT 240)
  endif()
endforeach()
