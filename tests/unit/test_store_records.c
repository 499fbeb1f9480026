/* Deep copies and checks of the store records (lib/store/records.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "store/records.h"

static int32_t doc_int(const bson_t *doc, const char *key)
{
    bson_iter_t it;
    assert_non_null(doc);
    assert_true(bson_iter_init_find(&it, doc, key));
    return bson_iter_int32(&it);
}

static tempo_trigger_t *trigger(void)
{
    tempo_trigger_t *t = NULL;
    assert_int_equal(tempo_trigger_date_new(1000, &t, NULL), TEMPO_OK);
    return t;
}

static void test_schedule_copy(void **state)
{
    (void)state;
    char id[] = "sched-1", task[] = "task-1", owner[] = "worker-7";
    bson_t args, meta;
    bson_init(&args);
    BSON_APPEND_INT32(&args, "a", 1);
    bson_init(&meta);
    BSON_APPEND_INT32(&meta, "m", 2);
    tempo_trigger_t *t = trigger();
    tempo_schedule_record_t src = {
        .id = id, .task_id = task, .trigger = t, .args = &args, .coalesce = TEMPO_COALESCE_ALL,
        .misfire_grace_time = 5, .max_jitter = 6, .jitter_deterministic = true, .paused = true,
        .job_result_expiration = 7, .next_fire_time = 8, .last_fire_time = 9, .metadata = &meta,
        .lease = {owner, 10, 11},
    };
    tempo_schedule_record_t dst;
    assert_int_equal(tempo__schedule_record_copy(&dst, &src, NULL), TEMPO_OK);
    /* Nothing is shared with the source but the (immutable) trigger. */
    memset(id, 'x', sizeof id - 1);
    memset(task, 'x', sizeof task - 1);
    memset(owner, 'x', sizeof owner - 1);
    bson_destroy(&args);
    bson_destroy(&meta);
    tempo_trigger_free(t);
    assert_string_equal(dst.id, "sched-1");
    assert_string_equal(dst.task_id, "task-1");
    assert_string_equal(dst.lease.owner, "worker-7");
    assert_int_equal(doc_int(dst.args, "a"), 1);
    assert_int_equal(doc_int(dst.metadata, "m"), 2);
    assert_int_equal(tempo_trigger_next(dst.trigger, 0), 1000); /* still alive: referenced */
    assert_int_equal(dst.coalesce, TEMPO_COALESCE_ALL);
    assert_int_equal(dst.misfire_grace_time, 5);
    assert_int_equal(dst.max_jitter, 6);
    assert_true(dst.jitter_deterministic && dst.paused);
    assert_int_equal(dst.job_result_expiration, 7);
    assert_int_equal(dst.next_fire_time, 8);
    assert_int_equal(dst.last_fire_time, 9);
    assert_int_equal(dst.lease.until, 10);
    assert_int_equal(dst.lease.fence, 11);
    tempo__schedule_record_clear(&dst);
    assert_null(dst.id);
    assert_null(dst.trigger);
    tempo__schedule_record_clear(&dst); /* a cleared record clears again */
    /* NULLs stay NULL. */
    tempo_schedule_record_t bare = {.id = "b"};
    assert_int_equal(tempo__schedule_record_copy(&dst, &bare, NULL), TEMPO_OK);
    assert_null(dst.task_id);
    assert_null(dst.args);
    assert_null(dst.lease.owner);
    assert_null(dst.trigger);
    tempo__schedule_record_clear(&dst);
    tempo_error_t err;
    assert_int_equal(tempo__schedule_record_copy(&dst, NULL, &err), TEMPO_EINVAL);
    assert_null(dst.id);
}

static void test_job_task_result_copies(void **state)
{
    (void)state;
    bson_t args;
    bson_init(&args);
    BSON_APPEND_INT32(&args, "j", 3);
    tempo_job_record_t job = {.id = "job", .task_id = "t", .schedule_id = "s", .args = &args,
                              .scheduled_fire_time = 1, .original_fire_time = 2, .start_deadline = 3,
                              .result_expiration = 4, .created_at = 5, .lease = {"o", 6, 7}};
    tempo_job_record_t jc;
    assert_int_equal(tempo__job_record_copy(&jc, &job, NULL), TEMPO_OK);
    assert_string_equal(jc.schedule_id, "s");
    assert_string_equal(jc.lease.owner, "o");
    assert_int_equal(doc_int(jc.args, "j"), 3);
    assert_int_equal(jc.created_at, 5);
    assert_ptr_not_equal(jc.args, &args);
    tempo__job_record_clear(&jc);

    tempo_task_record_t task = {.id = "t", .executor = TEMPO_EXECUTOR_THREAD, .max_running_jobs = 4,
                                .misfire_grace_time = 9, .metadata = &args};
    tempo_task_record_t tc;
    assert_int_equal(tempo__task_record_copy(&tc, &task, NULL), TEMPO_OK);
    assert_string_equal(tc.id, "t");
    assert_int_equal(tc.executor, TEMPO_EXECUTOR_THREAD);
    assert_int_equal(tc.max_running_jobs, 4);
    assert_int_equal(doc_int(tc.metadata, "j"), 3);
    tempo__task_record_clear(&tc);

    tempo_job_result_t res = {.job_id = "job", .task_id = "t", .outcome = TEMPO_OUTCOME_ERROR,
                              .finished_at = 8, .expires_at = 9, .return_value = &args, .error = "boom"};
    tempo_job_result_t rc;
    assert_int_equal(tempo__job_result_copy(&rc, &res, NULL), TEMPO_OK);
    assert_string_equal(rc.error, "boom");
    assert_null(rc.schedule_id);
    assert_int_equal(doc_int(rc.return_value, "j"), 3);
    tempo__job_result_clear(&rc);
    res.job_id = NULL;
    tempo_error_t err;
    assert_int_equal(tempo__job_result_copy(&rc, &res, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "job_id"));
    bson_destroy(&args);
}

static void test_arrays(void **state)
{
    (void)state;
    tempo_job_record_t jobs[3] = {
        {.id = "a", .task_id = "t"}, {.id = "b"}, {.id = "c", .lease = {"w", 1, 2}}};
    tempo_job_record_t *copy = NULL;
    assert_int_equal(tempo__job_records_dup(jobs, 3, &copy, NULL), TEMPO_OK);
    assert_string_equal(copy[0].id, "a");
    assert_string_equal(copy[2].lease.owner, "w");
    tempo__job_records_free(copy, 3);
    assert_int_equal(tempo__job_records_dup(NULL, 0, &copy, NULL), TEMPO_OK);
    assert_null(copy);
    tempo__job_records_free(NULL, 5);
    /* All or nothing: a bad element fails the whole copy. */
    jobs[1].id = NULL;
    copy = (tempo_job_record_t *)1;
    assert_int_equal(tempo__job_records_dup(jobs, 3, &copy, NULL), TEMPO_EINVAL);
    assert_null(copy);
}

static void test_checks(void **state)
{
    (void)state;
    tempo_error_t err;
    tempo_trigger_t *t = trigger();
    tempo_schedule_record_t s = {.id = "nightly", .task_id = "t", .trigger = t,
                                 .misfire_grace_time = TEMPO_DURATION_NONE};
    assert_int_equal(tempo__schedule_record_check(&s, &err), TEMPO_OK);
    s.max_jitter = -5;
    assert_int_equal(tempo__schedule_record_check(&s, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "schedule 'nightly': max_jitter must be >= 0, got -5");
    s.max_jitter = 0;
    s.misfire_grace_time = -2;
    assert_int_equal(tempo__schedule_record_check(&s, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "misfire_grace_time"));
    s.misfire_grace_time = 0;
    s.trigger = NULL;
    assert_int_equal(tempo__schedule_record_check(&s, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "schedule 'nightly': trigger is NULL");
    s.trigger = t;
    s.task_id = "";
    assert_int_equal(tempo__schedule_record_check(&s, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "schedule 'nightly': task_id is empty");
    assert_int_equal(tempo__schedule_record_check(NULL, &err), TEMPO_EINVAL);
    tempo_trigger_free(t);

    tempo_task_record_t task = {.id = "t", .max_running_jobs = 0, .misfire_grace_time = TEMPO_DURATION_NONE};
    assert_int_equal(tempo__task_record_check(&task, &err), TEMPO_OK);
    task.executor = (tempo_executor_t)5;
    assert_int_equal(tempo__task_record_check(&task, &err), TEMPO_EINVAL);
    assert_non_null(strstr(err.message, "executor 5"));

    tempo_job_record_t job = {.id = "j", .task_id = "t", .created_at = 0};
    assert_int_equal(tempo__job_record_check(&job, &err), TEMPO_OK);
    job.created_at = TEMPO_TIME_NONE;
    assert_int_equal(tempo__job_record_check(&job, &err), TEMPO_EINVAL);
    assert_string_equal(err.message, "job 'j': created_at is TEMPO_TIME_NONE");

    tempo_job_result_t r = {.outcome = TEMPO_OUTCOME_ABANDONED, .finished_at = 1};
    assert_int_equal(tempo__job_result_check(&r, &err), TEMPO_OK);
    r.finished_at = TEMPO_TIME_NONE;
    assert_int_equal(tempo__job_result_check(&r, &err), TEMPO_EINVAL);
    r.finished_at = 1;
    r.outcome = (tempo_outcome_t)-1;
    assert_int_equal(tempo__job_result_check(&r, &err), TEMPO_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_copy),
        cmocka_unit_test(test_job_task_result_copies),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
