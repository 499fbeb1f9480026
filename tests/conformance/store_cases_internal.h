/* The conformance cases, shared by store_cases.c (which runs them) and the
 * files that define them. */
#ifndef TEMPO_TEST_STORE_CASES_INTERNAL_H
#define TEMPO_TEST_STORE_CASES_INTERNAL_H

#include "store_harness.h"

/* store_cases_schedules.c */
void sc_add_conflicts(void **state);
void sc_schedule_fields(void **state);
void sc_get_order(void **state);
void sc_update_keeps_lease(void **state);
void sc_remove(void **state);
void sc_acquire_due(void **state);
void sc_lease_takeover(void **state);
void sc_release_jobs_idempotent(void **state);
void sc_finished_removal(void **state);
void sc_next_schedule_time(void **state);
void sc_schedule_bad_input(void **state);
void sc_acquire_among_many(void **state);

/* store_cases_decode.c */
void sd_schedule_quarantined(void **state);
void sd_job_quarantined(void **state);

/* store_cases_jobs.c */
void sj_add_get(void **state);
void sj_acquire_fifo(void **state);
void sj_only_listed_tasks(void **state);
void sj_max_running(void **state);
void sj_release_fencing(void **state);
void sj_results(void **state);
void sj_reap_abandoned(void **state);
void sj_extend_leases(void **state);
void sj_next_job_time(void **state);
void sj_take_at_release(void **state);

/* store_cases_results.c */
void sr_order(void **state);
void sr_filter(void **state);
void sr_limit(void **state);
void sr_expiry(void **state);
void sr_bad_input(void **state);

/* store_cases_life.c */
void sl_tasks(void **state);
void sl_deferred_once(void **state);
void sl_call_from_callback(void **state);
void sl_stop_in_flight(void **state);
void sl_destroy_drops(void **state);

#endif
