# Property test of the cron trigger (label `property`): random expressions in
# DST zones against a brute-force scanner (see test_cron_property.c).
set(TEMPO_PROPERTY_DIR ${CMAKE_CURRENT_LIST_DIR})
# Sanitizers slow the scanner about tenfold: fewer cases keep it to minutes.
if(TEMPO_SANITIZE)
  set(TEMPO_PROPERTY_SCALE 0.3)
else()
  set(TEMPO_PROPERTY_SCALE 1)
endif()
tempo_add_test(NAME test_cron_property
  SOURCES ${TEMPO_PROPERTY_DIR}/test_cron_property.c ${TEMPO_PROPERTY_DIR}/cron_model.c
          ${TEMPO_PROPERTY_DIR}/cron_scan.c
  LINK tempo_trigger
  LABELS property
  ENV TEMPO_PROPERTY_SCALE=${TEMPO_PROPERTY_SCALE}
  TIMEOUT 900)
# Count the work each next() does by wrapping the calls the cron trigger makes
# into other objects (the zone's span lookup, the wall-clock search).
target_link_options(test_cron_property PRIVATE
  -Wl,--wrap=tempo__zone_span -Wl,--wrap=tempo__cron_next_wall)
