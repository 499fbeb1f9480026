# Event-loop adapters: the conformance suite (adapter_conformance.c) run
# against each adapter on its real host loop, plus each adapter's own cases.
if(TARGET tempo_ev_static)
  tempo_add_test(NAME test_adapter_ev
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_adapter_ev.c ${CMAKE_CURRENT_LIST_DIR}/adapter_conformance.c
    LINK tempo_ev_static LABELS adapter TIMEOUT 120)
  target_include_directories(test_adapter_ev PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endif()

# GLib: a private GMainContext per case (TSan-clean without suppressions).
if(TARGET tempo_glib_static)
  tempo_add_test(NAME test_adapter_glib
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_adapter_glib.c ${CMAKE_CURRENT_LIST_DIR}/adapter_conformance.c
    LINK tempo_glib_static LABELS adapter TIMEOUT 120)
  target_include_directories(test_adapter_glib PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endif()

# libuv: a malloc'ed uv_loop_t per case, closed with uv_loop_close() == 0.
if(TARGET tempo_uv_static)
  tempo_add_test(NAME test_adapter_uv
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_adapter_uv.c ${CMAKE_CURRENT_LIST_DIR}/adapter_conformance.c
    LINK tempo_uv_static LABELS adapter TIMEOUT 120)
  target_include_directories(test_adapter_uv PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endif()

# libev runner (adapters/ev/ev_runner.c): blocking run, background thread,
# the big lock. Run three times: libev's default backend (epoll on Linux),
# then poll and select through LIBEV_FLAGS, which ev_loop_new(EVFLAG_AUTO)
# honours: each backend releases and retakes the lock around its own poll.
if(TARGET tempo_ev_static)
  tempo_add_test(NAME test_ev_runner SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ev_runner.c
    LINK tempo_ev_static LABELS adapter TIMEOUT 180)
  foreach(backend poll:2 select:1)
    string(REPLACE ":" ";" pair ${backend})
    list(GET pair 0 bname)
    list(GET pair 1 bflag)
    add_test(NAME test_ev_runner_${bname} COMMAND test_ev_runner)
    set_tests_properties(test_ev_runner_${bname} PROPERTIES LABELS adapter TIMEOUT 180
      SKIP_RETURN_CODE ${TEMPO_SKIP_CODE} ENVIRONMENT "LIBEV_FLAGS=${bflag}")
  endforeach()
endif()
