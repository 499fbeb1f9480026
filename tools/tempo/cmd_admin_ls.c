/* `tempo ls`: every schedule of the store, one line each: its name, its
 * trigger, its next fire time, whether it is paused, and how its last run
 * ended. The last runs are asked for all at once (one listing of one
 * result per schedule), then the table is printed. */
#include <stdlib.h>

#include "admin.h"
#include "cli.h"

/* The last result of each schedule; reqs[i] belongs to list[i]. */
static int last_results(tempo__admin_t *a, const tempo__admin_schedule_t *list, size_t n,
                        tempo__admin_results_t **out)
{
    tempo__admin_results_t *reqs = n ? calloc(n, sizeof *reqs) : NULL;
    *out = reqs;
    if (n && !reqs)
        return tempo__admin_nomem(a);
    int rc = TEMPO__CLI_OK;
    for (size_t i = 0; i < n && rc == TEMPO__CLI_OK; i++)
        rc = tempo__admin_results_start(a, list[i].id, 1, &reqs[i]);
    tempo__admin_wait(a); /* also after a refusal: the calls made must be answered */
    for (size_t i = 0; i < n && rc == TEMPO__CLI_OK; i++)
        if (reqs[i].answered && reqs[i].status != TEMPO_OK)
            rc = tempo__admin_fail(a, reqs[i].status, &reqs[i].err, list[i].id);
    return rc;
}

static void json_schedule(tempo__admin_t *a, tempo__json_t *j, const tempo__admin_schedule_t *s,
                          const tempo__admin_results_t *last)
{
    char buf[TEMPO__ADMIN_TEXT_MAX];
    tempo__json_object_begin(j, NULL);
    tempo__json_string(j, "name", s->id);
    tempo__json_string(j, "task_id", s->task_id);
    tempo__json_string(j, "trigger", tempo__admin_trigger_text(s, buf));
    tempo__json_string(j, "trigger_type", s->trigger ? tempo_trigger_type_name(s->trigger) : NULL);
    tempo__json_string(j, "command", tempo__admin_command_of(s->args));
    tempo__json_time(j, "next_fire_time", s->next_fire_time, a->zone);
    tempo__json_bool(j, "paused", s->paused);
    tempo__json_string(j, "source", tempo__admin_meta(s, "source"));
    if (last->count == 0) {
        tempo__json_null(j, "last");
    } else {
        const tempo__admin_result_t *r = &last->list[0];
        tempo__json_object_begin(j, "last");
        tempo__json_string(j, "job_id", r->job_id);
        tempo__json_string(j, "outcome", tempo_outcome_name(r->outcome));
        tempo__json_time(j, "finished_at", r->finished_at, a->zone);
        tempo__json_object_end(j);
    }
    tempo__json_object_end(j);
}

static int print_json(tempo__admin_t *a, const tempo__admin_schedule_t *list, size_t n,
                      const tempo__admin_results_t *last)
{
    tempo__json_t j;
    tempo__json_init(&j, stdout);
    tempo__json_object_begin(&j, NULL);
    tempo__json_string(&j, "store", a->store_uri);
    tempo__json_array_begin(&j, "schedules");
    for (size_t i = 0; i < n; i++)
        json_schedule(a, &j, &list[i], &last[i]);
    tempo__json_array_end(&j);
    tempo__json_object_end(&j);
    tempo__json_finish(&j);
    return tempo__cli_finish_output();
}

static int print_table(tempo__admin_t *a, const tempo__admin_schedule_t *list, size_t n,
                       const tempo__admin_results_t *last)
{
    if (n == 0) {
        printf("no schedules in %s\n", a->store_uri);
        return tempo__cli_finish_output();
    }
    tempo__table_t t;
    tempo__table_init(&t, 5);
    tempo__table_row(&t, (const char *const[]){"NAME", "TRIGGER", "NEXT", "PAUSED", "LAST"});
    for (size_t i = 0; i < n; i++) {
        const tempo__admin_schedule_t *s = &list[i];
        char trig[TEMPO__ADMIN_TEXT_MAX], next[TEMPO__ADMIN_TEXT_MAX], when[TEMPO__ADMIN_TEXT_MAX];
        char lastcell[2 * TEMPO__ADMIN_TEXT_MAX] = "-";
        if (last[i].count > 0) {
            const tempo__admin_result_t *r = &last[i].list[0];
            snprintf(lastcell, sizeof lastcell, "%s %s", tempo__admin_outcome_word(r->outcome),
                     tempo__admin_time(a, r->finished_at, when));
        }
        tempo__table_row(&t, (const char *const[]){s->id, tempo__admin_trigger_text(s, trig),
                                                   tempo__admin_time(a, s->next_fire_time, next),
                                                   s->paused ? "yes" : "no", lastcell});
    }
    int rc = tempo__table_print(&t, "");
    tempo__table_free(&t);
    return rc;
}

int tempo__admin_ls(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    (void)args;
    tempo__admin_schedule_t *list;
    size_t n;
    int rc = tempo__admin_get_schedules(a, NULL, &list, &n);
    if (rc != TEMPO__CLI_OK)
        return rc;
    tempo__admin_results_t *last = NULL;
    rc = last_results(a, list, n, &last);
    if (rc == TEMPO__CLI_OK)
        rc = a->json ? print_json(a, list, n, last) : print_table(a, list, n, last);
    for (size_t i = 0; last && i < n; i++)
        tempo__admin_results_free(&last[i]);
    free(last);
    tempo__admin_schedules_free(list, n);
    return rc;
}
