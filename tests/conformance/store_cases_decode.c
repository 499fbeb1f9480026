/* Conformance cases: stored records that cannot be decoded.
 *
 * A record written by a newer version, or damaged on disk, must neither stop
 * the store nor vanish: the store sets it aside (quarantine), reports it once
 * through set_quarantine_cb — before the callback of the operation that met
 * it — and from then on skips it everywhere. The damage is done through the
 * factory's `corrupt` hook, behind the store's back; a store that decodes
 * nothing (memory) has no such hook and these cases are skipped for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store_cases_internal.h"

static bool can_corrupt(void)
{
    if (sh_factory->corrupt && sh_factory->quarantined)
        return true;
    print_message("[  SKIP    ] store '%s' decodes nothing (no corrupt hook): decode cases do not apply\n",
                  sh_factory->name);
    return false;
}

static void corrupt(store_h_t *h, const char *kind, const char *id)
{
    if (!sh_factory->corrupt(sh_factory->ctx, h->store, kind, id))
        fail_msg("store '%s': could not corrupt %s '%s'", sh_factory->name, kind, id);
}

static void assert_one_report(const char *kind, const char *id, int before_seq)
{
    assert_int_equal(sh_report_count, 1);
    assert_string_equal(sh_reports[0].kind, kind);
    assert_string_equal(sh_reports[0].id, id);
    assert_true(sh_reports[0].reason[0] != '\0');
    /* Reported before the callback of the operation that met it. */
    assert_true(sh_reports[0].seq < before_seq);
}

void sd_schedule_quarantined(void **state)
{
    store_h_t *h = *state;
    if (!can_corrupt())
        skip();
    tempo_schedule_record_t good = sh_schedule(h, "good", SH_T0 - SH_SEC(2));
    tempo_schedule_record_t bad = sh_schedule(h, "bad", SH_T0 - SH_SEC(1));
    assert_int_equal(sh_add_schedule(h, &good, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    assert_int_equal(sh_add_schedule(h, &bad, TEMPO_CONFLICT_ERROR, NULL), TEMPO_OK);
    corrupt(h, "schedule", "bad");

    sh_result_t r = {0};
    assert_int_equal(sh_acquire_schedules(h, "w", SH_T0, SH_SEC(30), 5, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "good");
    assert_one_report("schedule", "bad", r.seq);
    sh_result_free(&r);

    /* Set aside: not listed, not due, not reported again, still kept. */
    assert_int_equal(sh_get_schedules(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "good");
    sh_result_free(&r);
    const char *ids[] = {"bad"};
    assert_int_equal(sh_get_schedules(h, ids, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 0);
    sh_result_free(&r);
    assert_int_equal(sh_next_schedule_time(h), SH_T0 + SH_SEC(30)); /* good's lease expiry */
    assert_int_equal(sh_acquire_schedules(h, "w2", SH_T0 + SH_SEC(60), SH_SEC(30), 5, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.schedules[0].id, "good");
    sh_result_free(&r);
    assert_int_equal(sh_report_count, 1);
    assert_true(sh_factory->quarantined(sh_factory->ctx, h->store, "schedule", "bad"));
}

void sd_job_quarantined(void **state)
{
    store_h_t *h = *state;
    if (!can_corrupt())
        skip();
    tempo_job_record_t good = sh_job("good", "task-a", NULL, SH_T0 - 2, SH_T0 - 2);
    tempo_job_record_t bad = sh_job("bad", "task-a", NULL, SH_T0 - 3, SH_T0 - 3);
    assert_int_equal(sh_add_job(h, &good), TEMPO_OK);
    assert_int_equal(sh_add_job(h, &bad), TEMPO_OK);
    corrupt(h, "job", "bad");

    tempo_task_record_t task = sh_task("task-a", 0);
    sh_result_t r = {0};
    assert_int_equal(sh_acquire_jobs(h, "w", SH_T0, SH_SEC(30), 5, &task, 1, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    assert_one_report("job", "bad", r.seq);
    sh_result_free(&r);

    assert_int_equal(sh_get_jobs(h, NULL, 0, &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    sh_result_free(&r);
    assert_int_equal(sh_next_job_time(h), TEMPO_TIME_NONE); /* good is held; bad is set aside */
    assert_int_equal(sh_reap_abandoned(h, SH_T0 + SH_SEC(31), &r), TEMPO_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.jobs[0].id, "good");
    sh_result_free(&r);
    assert_int_equal(sh_report_count, 1);
    assert_true(sh_factory->quarantined(sh_factory->ctx, h->store, "job", "bad"));
}
