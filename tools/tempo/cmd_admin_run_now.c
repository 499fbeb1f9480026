/* `tempo run-now NAME`: queue one job now for the schedule's task, with
 * the schedule's args (its command), leaving the schedule itself alone.
 *
 * The job runs in whichever process runs that task on this store — a
 * `tempo run` daemon — not here: this scheduler is never started. It only
 * registers a task of the same id because add_job accepts jobs of
 * registered tasks only (a typo in a task id must not queue a job nobody
 * runs). The job names the schedule, so its result is listed with the
 * schedule's and kept as long as the schedule keeps its own. */
#include "admin.h"
#include "cli.h"

typedef struct queued {
    tempo__admin_t *a;
    tempo_status_t status;
    tempo_error_t err;
    char job_id[40];
} queued_t;

static void on_queued(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    queued_t *q = ud;
    q->a->pending--;
    q->status = status;
    if (err)
        q->err = *err;
    if (id)
        snprintf(q->job_id, sizeof q->job_id, "%s", id);
}

static int register_task(tempo__admin_t *a, const char *task_id)
{
    tempo_process_task_options_t o = TEMPO_PROCESS_TASK_OPTIONS_INIT;
    o.id = task_id;
    o.max_running_jobs = 0;
    tempo_error_t err;
    tempo_status_t st = tempo_scheduler_add_process_task(a->s, &o, &err);
    return st == TEMPO_OK ? TEMPO__CLI_OK : tempo__admin_fail(a, st, &err, "registering its task");
}

static int print(tempo__admin_t *a, const tempo__admin_schedule_t *s, const queued_t *q, tempo_time_t at)
{
    if (a->json) {
        tempo__json_t j;
        tempo__json_init(&j, stdout);
        tempo__json_object_begin(&j, NULL);
        tempo__json_string(&j, "name", s->id);
        tempo__json_string(&j, "job_id", q->job_id);
        tempo__json_string(&j, "task_id", s->task_id);
        tempo__json_time(&j, "queued_at", at, a->zone);
        tempo__json_duration(&j, "result_kept", s->job_result_expiration);
        tempo__json_object_end(&j);
        tempo__json_finish(&j);
    } else {
        printf("queued a run of %s now (job %s); a tempo run daemon on this store runs it\n", s->id, q->job_id);
    }
    return tempo__cli_finish_output();
}

int tempo__admin_run_now(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    tempo__admin_schedule_t *s;
    size_t n;
    int rc = tempo__admin_get_schedules(a, args->pos[0], &s, &n);
    if (rc != TEMPO__CLI_OK)
        return rc;
    rc = register_task(a, s->task_id);
    if (rc == TEMPO__CLI_OK) {
        queued_t q = {.a = a};
        tempo_job_options_t o = TEMPO_JOB_OPTIONS_INIT;
        o.task_id = s->task_id;
        o.args = s->args;
        o.result_expiration = s->job_result_expiration;
        o.schedule_id = s->id;
        tempo_time_t at = tempo_time_now();
        tempo_error_t err;
        tempo_status_t st = tempo_scheduler_add_job(a->s, &o, on_queued, &q, &err);
        if (st != TEMPO_OK) {
            rc = tempo__admin_fail(a, st, &err, s->id);
        } else {
            a->pending++;
            tempo__admin_wait(a);
            rc = q.status == TEMPO_OK ? print(a, s, &q, at) : tempo__admin_fail(a, q.status, &q.err, s->id);
        }
    }
    tempo__admin_schedules_free(s, n);
    return rc;
}
