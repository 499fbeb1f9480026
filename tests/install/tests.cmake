# Install rules: headers, shared + static library, pkg-config file, CMake package.
set(san_flags "")
if(TEMPO_SANITIZE STREQUAL "address")
  set(san_flags "-fsanitize=address,undefined")
elseif(TEMPO_SANITIZE STREQUAL "thread")
  set(san_flags "-fsanitize=thread")
endif()
add_test(NAME install_consumers
  COMMAND ${CMAKE_COMMAND} -DBINARY_DIR=${PROJECT_BINARY_DIR} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DWORK=${PROJECT_BINARY_DIR}/install-test -DCC=${CMAKE_C_COMPILER}
          "-DSAN_FLAGS=${san_flags}"
          -P ${CMAKE_CURRENT_LIST_DIR}/install_check.cmake)
set_tests_properties(install_consumers PROPERTIES LABELS install TIMEOUT 300)
