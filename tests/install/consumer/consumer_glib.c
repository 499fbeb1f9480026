/* Uses the installed libtempo-glib: run one queued job on a GMainLoop over a
 * private GMainContext. Exits non-zero unless the job ran and the scheduler
 * stopped cleanly. */
#include <stdio.h>
#include <tempo/glib.h>
#include <tempo/tempo.h>

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
    g_main_loop_quit(ud);
}

static GMainLoop *main_loop;

static void on_released(const tempo_event_t *ev, void *ud)
{
    (void)ev;
    tempo_scheduler_stop(ud, TEMPO_SECONDS(1), on_stopped, main_loop);
}

int main(void)
{
    tempo_error_t err;
    tempo_loop_t *loop;
    tempo_scheduler_t *s;
    GMainContext *ctx = g_main_context_new();
    main_loop = g_main_loop_new(ctx, FALSE);
    if (tempo_glib_loop_new(ctx, &loop, &err) || tempo_scheduler_new(loop, NULL, NULL, &s, &err)) {
        fprintf(stderr, "consumer_glib: %s\n", err.message);
        return 1;
    }
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "hello";
    t.fn = task;
    tempo_job_options_t j = TEMPO_JOB_OPTIONS_INIT;
    j.task_id = "hello";
    if (tempo_scheduler_add_task(s, &t, &err) || tempo_scheduler_subscribe(s, TEMPO_EVENT_JOB_RELEASED, on_released, s, NULL, &err) ||
        tempo_scheduler_add_job(s, &j, NULL, NULL, &err) || tempo_scheduler_start(s, &err)) {
        fprintf(stderr, "consumer_glib: %s\n", err.message);
        return 1;
    }
    g_main_loop_run(main_loop);
    tempo_scheduler_free(s);
    g_main_loop_unref(main_loop);
    g_main_context_unref(ctx);
    printf("glib: ran=%d stopped=%d\n", ran, stopped);
    return ran && stopped ? 0 : 1;
}
