/* `tempo results [NAME] [-n COUNT]`: the latest stored results, newest
 * first — of one schedule, or of every job (jobs queued by run-now and
 * retries have no schedule: they are listed under their task's name).
 *
 * A NAME with no results is told apart from a NAME that does not exist:
 * the latter is a mistake (exit 2). A removed schedule's results are still
 * listed while they are kept. */
#include "admin.h"
#include "cli.h"

void tempo__admin_json_result(const tempo__admin_t *a, tempo__json_t *j, const tempo__admin_result_t *r)
{
    tempo__json_object_begin(j, NULL);
    tempo__json_string(j, "job_id", r->job_id);
    tempo__json_string(j, "name", tempo__admin_result_name(r));
    tempo__json_string(j, "schedule_id", r->schedule_id);
    tempo__json_string(j, "task_id", r->task_id);
    tempo__json_string(j, "outcome", tempo_outcome_name(r->outcome));
    tempo__json_time(j, "scheduled_fire_time", r->scheduled_fire_time, a->zone);
    tempo__json_time(j, "started_at", r->started_at, a->zone);
    tempo__json_time(j, "finished_at", r->finished_at, a->zone);
    tempo__json_time(j, "expires_at", r->expires_at, a->zone);
    if (r->started_at != TEMPO_TIME_NONE && r->finished_at >= r->started_at)
        tempo__json_duration(j, "duration", r->finished_at - r->started_at);
    else
        tempo__json_null(j, "duration");
    tempo__json_string(j, "error", r->error);
    tempo__json_bson(j, "return_value", r->return_value);
    tempo__json_object_end(j);
}

int tempo__admin_print_results(const tempo__admin_t *a, const tempo__admin_result_t *list, size_t n, bool names,
                               const char *indent)
{
    tempo__table_t t;
    int cols = names ? 5 : 4;
    tempo__table_init(&t, cols);
    const char *head[] = {"TIME", "NAME", "OUTCOME", "DURATION", "OUTPUT"};
    const char *head_nameless[] = {"TIME", "OUTCOME", "DURATION", "OUTPUT"};
    tempo__table_row(&t, names ? head : head_nameless);
    for (size_t i = 0; i < n; i++) {
        const tempo__admin_result_t *r = &list[i];
        char when[TEMPO__ADMIN_TEXT_MAX], took[TEMPO__ADMIN_TEXT_MAX], line[TEMPO__ADMIN_TEXT_MAX];
        const char *time = tempo__admin_time(a, r->finished_at, when), *word = tempo__admin_outcome_word(r->outcome),
                   *dur = tempo__admin_took(r, took), *out = tempo__admin_result_line(r, line);
        const char *row[] = {time, tempo__admin_result_name(r), word, dur, out};
        const char *row_nameless[] = {time, word, dur, out};
        tempo__table_row(&t, names ? row : row_nameless);
    }
    int rc = tempo__table_print(&t, indent);
    tempo__table_free(&t);
    return rc;
}

static int print_json(const tempo__admin_t *a, const tempo__admin_results_t *q)
{
    tempo__json_t j;
    tempo__json_init(&j, stdout);
    tempo__json_object_begin(&j, NULL);
    tempo__json_string(&j, "store", a->store_uri);
    tempo__json_array_begin(&j, "results");
    for (size_t i = 0; i < q->count; i++)
        tempo__admin_json_result(a, &j, &q->list[i]);
    tempo__json_array_end(&j);
    tempo__json_object_end(&j);
    tempo__json_finish(&j);
    return tempo__cli_finish_output();
}

/* No result of NAME: an unknown NAME is an error, a known one has none. */
static int none_kept(tempo__admin_t *a, const char *name)
{
    if (name) {
        tempo__admin_schedule_t *s;
        size_t n;
        int rc = tempo__admin_get_schedules(a, name, &s, &n);
        if (rc != TEMPO__CLI_OK)
            return rc;
        tempo__admin_schedules_free(s, n);
    }
    if (a->json)
        return TEMPO__CLI_OK;
    if (name)
        printf("no results of %s kept\n", name);
    else
        printf("no results kept in %s\n", a->store_uri);
    return tempo__cli_finish_output();
}

int tempo__admin_results(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    const char *name = args->npos ? args->pos[0] : NULL;
    size_t limit = args->count ? (size_t)args->count : TEMPO__ADMIN_RESULTS_DEFAULT;
    tempo__admin_results_t q;
    int rc = tempo__admin_results_start(a, name, limit, &q);
    tempo__admin_wait(a);
    if (rc == TEMPO__CLI_OK && q.status != TEMPO_OK)
        rc = tempo__admin_fail(a, q.status, &q.err, "listing results");
    if (rc == TEMPO__CLI_OK && q.count == 0)
        rc = none_kept(a, name);
    if (rc == TEMPO__CLI_OK)
        rc = a->json ? print_json(a, &q) : q.count ? tempo__admin_print_results(a, q.list, q.count, true, "") : rc;
    tempo__admin_results_free(&q);
    return rc;
}
