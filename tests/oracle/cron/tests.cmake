# Differential tests of the cron trigger (label `differential`): tempo against
# croniter (crontab forms) and APScheduler 3.9's CronTrigger (named fields).
#
# The oracle data is not committed: a fixture test runs the generator with
# Debian's /usr/bin/python3 (TEMPO_PYTHON) and a fixed seed into the build
# tree, then the C program compares. The counts below are also the minimum
# number of expressions the C side insists on reading.
set(TEMPO_CRON_ORACLE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(TEMPO_CRON_ORACLE_OUT ${PROJECT_BINARY_DIR}/tests/oracle/cron)
file(MAKE_DIRECTORY ${TEMPO_CRON_ORACLE_OUT})

set(TEMPO_CRON_ORACLE_croniter_COUNT 2000)
set(TEMPO_CRON_ORACLE_apscheduler_COUNT 1500)

foreach(oracle croniter apscheduler)
  set(data ${TEMPO_CRON_ORACLE_OUT}/${oracle}.txt)
  add_test(NAME cron_oracle_gen_${oracle}
    COMMAND ${TEMPO_PYTHON} ${TEMPO_CRON_ORACLE_DIR}/gen_${oracle}.py
            --out ${data} --count ${TEMPO_CRON_ORACLE_${oracle}_COUNT})
  set_tests_properties(cron_oracle_gen_${oracle} PROPERTIES
    LABELS differential FIXTURES_SETUP cron_oracle_${oracle}
    SKIP_RETURN_CODE ${TEMPO_SKIP_CODE} TIMEOUT 300)
  tempo_add_test(NAME test_cron_differential_${oracle}
    SOURCES ${TEMPO_CRON_ORACLE_DIR}/test_cron_differential.c
    LINK tempo_trigger
    LABELS differential
    ARGS ${data} ${oracle} ${TEMPO_CRON_ORACLE_${oracle}_COUNT}
    FIXTURES_REQUIRED cron_oracle_${oracle}
    TIMEOUT 300)
endforeach()
