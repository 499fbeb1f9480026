/* The store conformance suite's table of cases (store_cases.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store_cases_internal.h"

#define CASE(f) cmocka_unit_test_setup_teardown(f, sh_setup, sh_teardown)

int tempo_store_conformance_run(const tempo_store_factory_t *factory)
{
    const struct CMUnitTest cases[] = {
        CASE(sc_add_conflicts),
        CASE(sc_schedule_fields),
        CASE(sc_get_order),
        CASE(sc_update_keeps_lease),
        CASE(sc_remove),
        CASE(sc_acquire_due),
        CASE(sc_lease_takeover),
        CASE(sc_release_jobs_idempotent),
        CASE(sc_finished_removal),
        CASE(sc_next_schedule_time),
        CASE(sc_schedule_bad_input),
        CASE(sc_acquire_among_many),
        CASE(sj_add_get),
        CASE(sj_acquire_fifo),
        CASE(sj_only_listed_tasks),
        CASE(sj_max_running),
        CASE(sj_release_fencing),
        CASE(sj_results),
        CASE(sj_reap_abandoned),
        CASE(sj_extend_leases),
        CASE(sj_next_job_time),
        CASE(sj_take_at_release),
        CASE(sr_order),
        CASE(sr_filter),
        CASE(sr_limit),
        CASE(sr_expiry),
        CASE(sr_bad_input),
        CASE(sl_tasks),
        CASE(sl_deferred_once),
        CASE(sl_call_from_callback),
        CASE(sl_stop_in_flight),
        CASE(sl_destroy_drops),
        CASE(sd_schedule_quarantined),
        CASE(sd_job_quarantined),
    };
    sh_factory = factory;
    return cmocka_run_group_tests_name(factory->name, cases, NULL, NULL);
}
