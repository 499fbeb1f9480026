/* `tempo show NAME`: everything the store keeps about one schedule, its
 * next fire times, and its last results.
 *
 * The upcoming times start at the stored next fire time — the one the
 * scheduler will act on, even when it is already past because no process
 * ran — and continue with what the trigger computes after it. */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

/* True when args hold more than the command (a schedule made by a program
 * rather than by tempo): then they are shown whole. */
static bool args_beyond_command(const bson_t *args)
{
    return args && bson_count_keys(args) > (tempo__admin_command_of(args) ? 1u : 0u);
}

void tempo__admin_json_schedule(const tempo__admin_t *a, tempo__json_t *j, const char *key,
                                const tempo__admin_schedule_t *s)
{
    char buf[TEMPO__ADMIN_TEXT_MAX];
    tempo__json_object_begin(j, key);
    tempo__json_string(j, "name", s->id);
    tempo__json_string(j, "task_id", s->task_id);
    tempo__json_string(j, "trigger", tempo__admin_trigger_text(s, buf));
    tempo__json_string(j, "trigger_type", s->trigger ? tempo_trigger_type_name(s->trigger) : NULL);
    if (s->trigger && tempo_trigger_describe(s->trigger, buf, sizeof buf) >= 0)
        tempo__json_string(j, "description", buf);
    else
        tempo__json_null(j, "description");
    tempo__json_string(j, "command", tempo__admin_command_of(s->args));
    tempo__json_bson(j, "args", s->args);
    tempo__json_bson(j, "metadata", s->metadata);
    tempo__json_string(j, "source", tempo__admin_meta(s, "source"));
    tempo__json_bool(j, "paused", s->paused);
    tempo__json_time(j, "next_fire_time", s->next_fire_time, a->zone);
    tempo__json_time(j, "last_fire_time", s->last_fire_time, a->zone);
    tempo__json_string(j, "coalesce", tempo__admin_coalesce_word(s->coalesce));
    tempo__json_duration(j, "misfire_grace_time", s->misfire_grace_time);
    tempo__json_duration(j, "max_jitter", s->max_jitter);
    tempo__json_duration(j, "job_result_expiration", s->job_result_expiration);
    if (!s->lease_owner) {
        tempo__json_null(j, "lease");
    } else {
        tempo__json_object_begin(j, "lease");
        tempo__json_string(j, "owner", s->lease_owner);
        tempo__json_time(j, "until", s->lease_until, a->zone);
        tempo__json_int(j, "fence", s->fence);
        tempo__json_object_end(j);
    }
    tempo__json_object_end(j);
}

/* Up to `max` fire times from the stored next one on; how many. */
static size_t upcoming(const tempo__admin_schedule_t *s, tempo_time_t *out, size_t max)
{
    size_t n = 0;
    for (tempo_time_t t = s->next_fire_time; t != TEMPO_TIME_NONE && n < max && s->trigger;
         t = tempo_trigger_next(s->trigger, t))
        out[n++] = t;
    return n;
}

static int print_json(const tempo__admin_t *a, const tempo__admin_schedule_t *s, const tempo_time_t *times,
                      size_t ntimes, const tempo__admin_results_t *results)
{
    tempo__json_t j;
    tempo__json_init(&j, stdout);
    tempo__json_object_begin(&j, NULL);
    tempo__json_string(&j, "store", a->store_uri);
    tempo__admin_json_schedule(a, &j, "schedule", s);
    tempo__json_array_begin(&j, "upcoming");
    for (size_t i = 0; i < ntimes; i++)
        tempo__json_time(&j, NULL, times[i], a->zone);
    tempo__json_array_end(&j);
    tempo__json_array_begin(&j, "results");
    for (size_t i = 0; i < results->count; i++)
        tempo__admin_json_result(a, &j, &results->list[i]);
    tempo__json_array_end(&j);
    tempo__json_object_end(&j);
    tempo__json_finish(&j);
    return tempo__cli_finish_output();
}

/* "task" and "run:backup" as one line, the value's control characters
 * shown as '?' (a command may hold a tab). */
static void field(const char *name, const char *value)
{
    printf("%-14s ", name);
    for (const unsigned char *p = (const unsigned char *)(value ? value : "-"); *p; p++)
        putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
    putchar('\n');
}

static void print_lease(const tempo__admin_t *a, const tempo__admin_schedule_t *s)
{
    char until[TEMPO__ADMIN_TEXT_MAX], line[3 * TEMPO__ADMIN_TEXT_MAX];
    if (!s->lease_owner) {
        field("lease", "none");
        return;
    }
    snprintf(line, sizeof line, "%s until %s (fence %lld)", s->lease_owner, tempo__admin_time(a, s->lease_until, until),
             (long long)s->fence);
    field("lease", line);
}

static void print_fields(const tempo__admin_t *a, const tempo__admin_schedule_t *s)
{
    char buf[TEMPO__ADMIN_TEXT_MAX], desc[TEMPO__ADMIN_TEXT_MAX];
    field("name", s->id);
    field("task", s->task_id);
    field("command", tempo__admin_command_of(s->args));
    const char *trigger = tempo__admin_trigger_text(s, buf);
    field("trigger", trigger);
    if (s->trigger && tempo_trigger_describe(s->trigger, desc, sizeof desc) >= 0 && strcmp(desc, trigger) != 0)
        field("", desc);
    const char *source = tempo__admin_meta(s, "source"), *file = tempo__admin_meta(s, "file");
    char src[2 * TEMPO__ADMIN_TEXT_MAX];
    snprintf(src, sizeof src, "%s%s%s", source ? source : "-", file ? ", " : "", file ? file : "");
    field("source", src);
    field("paused", s->paused ? "yes" : "no");
    field("next",
          s->next_fire_time == TEMPO_TIME_NONE ? "none (finished)" : tempo__admin_time(a, s->next_fire_time, buf));
    field("last fired", s->last_fire_time == TEMPO_TIME_NONE ? "never" : tempo__admin_time(a, s->last_fire_time, buf));
    field("coalesce", tempo__admin_coalesce_word(s->coalesce));
    field("misfire grace", tempo__admin_duration(s->misfire_grace_time, "unlimited (or the task's)", buf));
    field("jitter", tempo__admin_duration(s->max_jitter, "0", buf));
    field("results kept", tempo__admin_duration(s->job_result_expiration, "0", buf));
    print_lease(a, s);
    if (args_beyond_command(s->args)) {
        char *json = bson_as_relaxed_extended_json(s->args, NULL);
        field("args", json);
        bson_free(json);
    }
}

static int print_text(const tempo__admin_t *a, const tempo__admin_schedule_t *s, const tempo_time_t *times,
                      size_t ntimes, const tempo__admin_results_t *results)
{
    char buf[TEMPO__ADMIN_TEXT_MAX];
    print_fields(a, s);
    printf("\nupcoming\n");
    if (ntimes == 0)
        printf("  none\n");
    for (size_t i = 0; i < ntimes; i++)
        printf("  %s\n", tempo__admin_time(a, times[i], buf));
    printf("\nlast results\n");
    if (results->count == 0) {
        printf("  none kept\n");
        return tempo__cli_finish_output();
    }
    return tempo__admin_print_results(a, results->list, results->count, false, "  ");
}

int tempo__admin_show(tempo__admin_t *a, const tempo__admin_args_t *args)
{
    tempo__admin_schedule_t *s;
    size_t n;
    int rc = tempo__admin_get_schedules(a, args->pos[0], &s, &n);
    if (rc != TEMPO__CLI_OK)
        return rc;
    tempo__admin_results_t results;
    rc = tempo__admin_results_start(a, s->id, TEMPO__ADMIN_SHOW_RESULTS, &results);
    tempo__admin_wait(a);
    if (rc == TEMPO__CLI_OK && results.status != TEMPO_OK)
        rc = tempo__admin_fail(a, results.status, &results.err, "listing its results");
    if (rc == TEMPO__CLI_OK) {
        tempo_time_t times[TEMPO__ADMIN_SHOW_UPCOMING];
        size_t ntimes = upcoming(s, times, TEMPO__ADMIN_SHOW_UPCOMING);
        rc = a->json ? print_json(a, s, times, ntimes, &results) : print_text(a, s, times, ntimes, &results);
    }
    tempo__admin_results_free(&results);
    tempo__admin_schedules_free(s, n);
    return rc;
}
