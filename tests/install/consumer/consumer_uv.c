/* Uses the installed libtempo-uv: run one queued job on a real libuv loop.
 * Exits non-zero unless the job ran, the scheduler stopped cleanly and the
 * loop closed with nothing of tempo's left on it. */
#include <stdio.h>
#include <tempo/tempo.h>
#include <tempo/uv.h>

static int ran, stopped;

static void task(tempo_job_t *job, void *ud)
{
    (void)ud;
    ran = tempo_job_complete(job, NULL) == TEMPO_OK;
}

static void on_stopped(void *ud, tempo_status_t st, const tempo_error_t *err)
{
    (void)err;
    stopped = st == TEMPO_OK;
    uv_stop(ud);
}

static void on_released(const tempo_event_t *ev, void *ud)
{
    (void)ev;
    tempo_scheduler_stop(ud, TEMPO_SECONDS(1), on_stopped, uv_default_loop());
}

int main(void)
{
    tempo_error_t err;
    tempo_loop_t *loop;
    tempo_scheduler_t *s;
    uv_loop_t *uv = uv_default_loop();
    if (tempo_uv_loop_new(uv, &loop, &err) || tempo_scheduler_new(loop, NULL, NULL, &s, &err)) {
        fprintf(stderr, "consumer_uv: %s\n", err.message);
        return 1;
    }
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "hello";
    t.fn = task;
    tempo_job_options_t j = TEMPO_JOB_OPTIONS_INIT;
    j.task_id = "hello";
    if (tempo_scheduler_add_task(s, &t, &err) || tempo_scheduler_subscribe(s, TEMPO_EVENT_JOB_RELEASED, on_released, s, NULL, &err) ||
        tempo_scheduler_add_job(s, &j, NULL, NULL, &err) || tempo_scheduler_start(s, &err)) {
        fprintf(stderr, "consumer_uv: %s\n", err.message);
        return 1;
    }
    uv_run(uv, UV_RUN_DEFAULT);
    tempo_scheduler_free(s);
    uv_run(uv, UV_RUN_DEFAULT); /* the adapter's close callbacks */
    int closed = uv_loop_close(uv) == 0;
    printf("uv: ran=%d stopped=%d closed=%d\n", ran, stopped, closed);
    return ran && stopped && closed ? 0 : 1;
}
