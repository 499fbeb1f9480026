# Event-loop adapters: the conformance suite (adapter_conformance.c) run
# against each adapter on its real host loop, plus each adapter's own cases.
if(TARGET tempo_ev_static)
  tempo_add_test(NAME test_adapter_ev
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_adapter_ev.c ${CMAKE_CURRENT_LIST_DIR}/adapter_conformance.c
    LINK tempo_ev_static LABELS adapter TIMEOUT 120)
  target_include_directories(test_adapter_ev PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endif()
