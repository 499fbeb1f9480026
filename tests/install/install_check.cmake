# Install tempo into a scratch prefix, then build and run a consumer with
# find_package(tempo) (shared and static) and with pkg-config, and check that
# the shared library exports nothing but the public tempo_* API.
# Run as: cmake -DBINARY_DIR=... -DSOURCE_DIR=... -DWORK=... -DCC=... -P install_check.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(JOIN " " cmd ${ARGN})
    message(FATAL_ERROR "install test: '${cmd}' failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK})
set(prefix ${WORK}/prefix)
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
file(GLOB libdirs ${prefix}/lib ${prefix}/lib/*-linux-gnu*)
list(GET libdirs -1 libdir)
foreach(f include/tempo/tempo.h include/tempo/version.h)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "install test: ${f} not installed")
  endif()
endforeach()

# find_package
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK}/consumer -G Ninja
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_RPATH=${libdir}
    "-DCMAKE_C_FLAGS=${SAN_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${SAN_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer_shared)
message(STATUS "find_package, shared: ${last_output}")
run(${WORK}/consumer/consumer_static)
message(STATUS "find_package, static: ${last_output}")
run(${WORK}/consumer/consumer_ev)
message(STATUS "find_package, libev adapter: ${last_output}")

# pkg-config
set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)
run(pkg-config --cflags --libs tempo)
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
separate_arguments(san UNIX_COMMAND "${SAN_FLAGS}")
run(${CC} ${san} ${SOURCE_DIR}/tests/install/consumer/consumer.c ${flags} -Wl,-rpath,${libdir} -o ${WORK}/consumer_pc)
run(${WORK}/consumer_pc)
message(STATUS "pkg-config: ${last_output}")
run(pkg-config --cflags --libs tempo-ev)
string(STRIP "${last_output}" ev_flags)
separate_arguments(ev_flags UNIX_COMMAND "${ev_flags}")
run(${CC} ${san} ${SOURCE_DIR}/tests/install/consumer/consumer_ev.c ${ev_flags} -Wl,-rpath,${libdir} -o ${WORK}/consumer_ev_pc)
run(${WORK}/consumer_ev_pc)
message(STATUS "pkg-config, libev adapter: ${last_output}")

# Exported symbols: only the public API.
run(nm -D --defined-only ${libdir}/libtempo.so)
string(REGEX MATCHALL "[0-9a-f]+ [TDBR] [^\n]+" syms "${last_output}")
set(count 0)
foreach(line ${syms})
  string(REGEX REPLACE "^[0-9a-f]+ [TDBR] " "" sym "${line}")
  if(sym MATCHES "^tempo__" OR NOT sym MATCHES "^tempo_")
    message(FATAL_ERROR "install test: libtempo.so exports '${sym}', which is not public API")
  endif()
  math(EXPR count "${count} + 1")
endforeach()
if(count LESS 10)
  message(FATAL_ERROR "install test: libtempo.so exports only ${count} symbols")
endif()
message(STATUS "libtempo.so exports ${count} public symbols, nothing else")
