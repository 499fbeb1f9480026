# Property test of the cron trigger (label `property`): random expressions in
# DST zones against a brute-force scanner (see test_cron_property.c).
set(TEMPO_PROPERTY_DIR ${CMAKE_CURRENT_LIST_DIR})
# TEMPO_PROPERTY_SCALE multiplies the number of cases (1: ~3 s at -O2, ~20 s
# under ASan+UBSan); set it higher by hand for a longer soak.
set(TEMPO_PROPERTY_SCALE 1 CACHE STRING "Case count multiplier of test_cron_property")
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
