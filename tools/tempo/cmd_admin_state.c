/* `tempo pause NAME`, `tempo resume NAME`, `tempo rm NAME`.
 *
 * Each reads the schedule first: an unknown NAME is reported as such (exit
 * 2) and the message can say what the change means for it. A paused
 * schedule keeps its next fire time; on resume, the fire times that passed
 * meanwhile are handled by its coalesce policy and misfire grace time, as
 * after downtime. A schedule that `tempo run` made from a file comes back
 * when that daemon reloads or restarts with the file unchanged: rm says so. */
#include <string.h>

#include "admin.h"
#include "cli.h"
#include "run.h"

typedef enum change { PAUSE, RESUME, REMOVE } change_t;

typedef struct done_req {
    tempo__admin_t *a;
    tempo_status_t status;
    tempo_error_t err;
} done_req_t;

static void done(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    done_req_t *q = ud;
    q->a->pending--;
    q->status = status;
    if (err)
        q->err = *err;
}

static const char *const verbs[] = {"paused", "resumed", "removed"};

static int print(tempo__admin_t *a, change_t what, const tempo__admin_schedule_t *s)
{
    if (a->json) {
        tempo__json_t j;
        tempo__json_init(&j, stdout);
        tempo__json_object_begin(&j, NULL);
        tempo__json_string(&j, "name", s->id);
        tempo__json_string(&j, "action", verbs[what]);
        tempo__json_bool(&j, "was_paused", s->paused);
        if (what == REMOVE)
            tempo__json_null(&j, "next_fire_time");
        else
            tempo__json_time(&j, "next_fire_time", s->next_fire_time, a->zone);
        tempo__json_object_end(&j);
        tempo__json_finish(&j);
        return tempo__cli_finish_output();
    }
    char buf[TEMPO__ADMIN_TEXT_MAX];
    const char *source = tempo__admin_meta(s, "source"), *file = tempo__admin_meta(s, "file");
    if (what == PAUSE)
        printf("paused %s%s\n", s->id, s->paused ? " (it was paused already)" : "");
    else if (what == RESUME)
        printf("resumed %s%s (next %s)\n", s->id, s->paused ? "" : ", which was not paused",
               tempo__admin_time(a, s->next_fire_time, buf));
    else if (source && strcmp(source, TEMPO__RUN_SOURCE) == 0 && file)
        printf("removed %s (%s still lists it: tempo run adds it again when it reloads or restarts)\n", s->id, file);
    else
        printf("removed %s\n", s->id);
    return tempo__cli_finish_output();
}

static int change(tempo__admin_t *a, const tempo__admin_args_t *args, change_t what)
{
    tempo__admin_schedule_t *s;
    size_t n;
    int rc = tempo__admin_get_schedules(a, args->pos[0], &s, &n);
    if (rc != TEMPO__CLI_OK)
        return rc;
    done_req_t q = {.a = a};
    tempo_error_t err;
    tempo_status_t st = what == PAUSE    ? tempo_scheduler_pause_schedule(a->s, s->id, done, &q, &err)
                        : what == RESUME ? tempo_scheduler_resume_schedule(a->s, s->id, done, &q, &err)
                                         : tempo_scheduler_remove_schedule(a->s, s->id, done, &q, &err);
    if (st != TEMPO_OK) {
        rc = tempo__admin_fail(a, st, &err, s->id);
    } else {
        a->pending++;
        tempo__admin_wait(a);
        if (q.status == TEMPO_ENOTFOUND) /* removed by someone else meanwhile */
            rc = tempo__cli_usage_error("%s: no schedule '%s' in the store (see 'tempo ls')", a->cmd, s->id);
        else if (q.status != TEMPO_OK)
            rc = tempo__admin_fail(a, q.status, &q.err, s->id);
        else
            rc = print(a, what, s);
    }
    tempo__admin_schedules_free(s, n);
    return rc;
}

int tempo__admin_pause(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    return change(a, args, PAUSE);
}

int tempo__admin_resume(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    return change(a, args, RESUME);
}

int tempo__admin_rm(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    return change(a, args, REMOVE);
}
