/* One scheduler process of the multi-process tests (test_multiprocess.c).
 *
 * Opens the store named by --store, adds the test's schedules (every node
 * adds the same ones: conflict DO_NOTHING makes that idempotent), and runs a
 * scheduler on libev until SIGTERM. Its task appends one line per start and
 * one per end to the shared log (O_APPEND: one write() per line, so lines
 * from several processes never interleave):
 *
 *     start <schedule> <scheduled_us> <job_id> <node>
 *     done  <schedule> <scheduled_us> <job_id> <node>
 *
 * The task is a blocking one that sleeps --hold-ms on the thread pool, so
 * that a kill -9 finds jobs in flight. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/ev.h>
#include <tempo/tempo.h>
#include <time.h>
#include <unistd.h>

typedef struct node {
    const char *store_uri, *name, *log_path, *prefix;
    int schedules, hold_ms, lease_ms;
    tempo_time_t start, end;
    tempo_duration_t period, grace;
    tempo_coalesce_t coalesce;
    bool retry_abandoned, no_schedules;
    int log_fd;
} node_t;

static node_t node;

static void log_line(const char *what, const char *schedule, tempo_time_t at, const char *job_id)
{
    char line[256];
    int n = snprintf(line, sizeof line, "%s %s %lld %s %s\n", what, schedule ? schedule : "-", (long long)at,
                     job_id, node.name);
    if (n > 0 && write(node.log_fd, line, (size_t)n) != n)
        fprintf(stderr, "mp_node %s: log write: %s\n", node.name, strerror(errno));
}

/* Blocking work: hold the job for a while, and say who ran it. */
static tempo_status_t work(const bson_t *args, bson_t *result, tempo_error_t *err, void *ud)
{
    (void)args, (void)err, (void)ud;
    if (node.hold_ms > 0) {
        struct timespec ts = {node.hold_ms / 1000, (long)(node.hold_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    BSON_APPEND_UTF8(result, "node", node.name);
    return TEMPO_OK;
}

/* Starts and ends are logged from events, which carry the job's schedule
 * and scheduled fire time: JOB_ACQUIRED (it starts now) and JOB_RELEASED
 * with SUCCESS (stored). */
static void on_event(const tempo_event_t *ev, void *ud)
{
    (void)ud;
    if (ev->type == TEMPO_EVENT_JOB_ACQUIRED)
        log_line("start", ev->schedule_id, ev->scheduled_fire_time, ev->job_id);
    else if (ev->type == TEMPO_EVENT_JOB_RELEASED) {
        const char *what = ev->outcome == TEMPO_OUTCOME_SUCCESS               ? "done"
                           : ev->outcome == TEMPO_OUTCOME_ABANDONED           ? "abandoned"
                           : ev->outcome == TEMPO_OUTCOME_MISSED_START_DEADLINE ? "missed"
                                                                              : "failed";
        log_line(what, ev->schedule_id, ev->scheduled_fire_time, ev->job_id);
    }
}

static void added(void *ud, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    (void)ud;
    if (status != TEMPO_OK) {
        fprintf(stderr, "mp_node %s: add_schedule %s: %s\n", node.name, id ? id : "?", err ? err->message : "");
        exit(3);
    }
}

static int add_schedules(tempo_scheduler_t *s)
{
    tempo_interval_options_t io = TEMPO_INTERVAL_OPTIONS_INIT;
    io.start = node.start;
    io.end = node.end;
    io.period = node.period;
    tempo_trigger_t *trigger = NULL;
    tempo_error_t err;
    if (tempo_trigger_interval_new(&io, &trigger, &err) != TEMPO_OK) {
        fprintf(stderr, "mp_node: trigger: %s\n", err.message);
        return -1;
    }
    for (int i = 0; i < node.schedules; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s%03d", node.prefix, i);
        bson_t args = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&args, "schedule", id);
        tempo_schedule_options_t o = TEMPO_SCHEDULE_OPTIONS_INIT;
        o.id = id;
        o.task_id = "mp";
        o.trigger = trigger;
        o.args = &args;
        o.coalesce = node.coalesce;
        o.misfire_grace_time = node.grace;
        o.job_result_expiration = TEMPO_HOURS(1);
        tempo_status_t rc = tempo_scheduler_add_schedule(s, &o, added, NULL, &err);
        bson_destroy(&args);
        if (rc != TEMPO_OK) {
            fprintf(stderr, "mp_node: add_schedule: %s\n", err.message);
            tempo_trigger_free(trigger);
            return -1;
        }
    }
    tempo_trigger_free(trigger);
    return 0;
}

static int parse(int argc, char **argv)
{
    node.schedules = 200;
    node.period = TEMPO_SECONDS(1);
    node.grace = TEMPO_DURATION_NONE;
    node.coalesce = TEMPO_COALESCE_ALL;
    node.lease_ms = 3000;
    node.prefix = "s";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--retry-abandoned") == 0) {
            node.retry_abandoned = true;
            continue;
        }
        if (strcmp(a, "--no-schedules") == 0) {
            node.no_schedules = true;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (strcmp(a, "--store") == 0) node.store_uri = v;
        else if (strcmp(a, "--name") == 0) node.name = v;
        else if (strcmp(a, "--log") == 0) node.log_path = v;
        else if (strcmp(a, "--prefix") == 0) node.prefix = v;
        else if (strcmp(a, "--schedules") == 0) node.schedules = atoi(v);
        else if (strcmp(a, "--hold-ms") == 0) node.hold_ms = atoi(v);
        else if (strcmp(a, "--lease-ms") == 0) node.lease_ms = atoi(v);
        else if (strcmp(a, "--start-us") == 0) node.start = strtoll(v, NULL, 10);
        else if (strcmp(a, "--end-us") == 0) node.end = strtoll(v, NULL, 10);
        else if (strcmp(a, "--period-ms") == 0) node.period = TEMPO_MILLISECONDS(atoll(v));
        else if (strcmp(a, "--grace-ms") == 0) node.grace = TEMPO_MILLISECONDS(atoll(v));
        else if (strcmp(a, "--coalesce") == 0)
            node.coalesce = strcmp(v, "latest") == 0     ? TEMPO_COALESCE_LATEST
                            : strcmp(v, "earliest") == 0 ? TEMPO_COALESCE_EARLIEST
                                                         : TEMPO_COALESCE_ALL;
        else
            return -1;
    }
    return node.store_uri && node.name && node.log_path && node.start ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (parse(argc, argv) != 0) {
        fprintf(stderr, "usage: mp_node --store URI --name N --log FILE --start-us T [--end-us T] [...]\n");
        return 2;
    }
    node.log_fd = open(node.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (node.log_fd < 0) {
        fprintf(stderr, "mp_node: %s: %s\n", node.log_path, strerror(errno));
        return 2;
    }
    tempo_error_t err;
    tempo_store_t *store = NULL;
    if (tempo_store_open(node.store_uri, &store, &err) != TEMPO_OK) {
        fprintf(stderr, "mp_node: store: %s\n", err.message);
        return 2;
    }
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.identity = node.name;
    so.lease_duration = TEMPO_MILLISECONDS(node.lease_ms);
    so.poll_interval = TEMPO_MILLISECONDS(500);
    so.thread_pool_size = 16;
    tempo_scheduler_t *s = NULL;
    if (tempo_ev_scheduler_new(store, &so, &s, &err) != TEMPO_OK) {
        fprintf(stderr, "mp_node: scheduler: %s\n", err.message);
        tempo_store_free(store);
        return 2;
    }
    uint64_t sub;
    tempo_scheduler_subscribe(s, TEMPO_EVENT_JOB_ACQUIRED | TEMPO_EVENT_JOB_RELEASED, on_event, NULL, &sub, &err);
    tempo_task_options_t t = TEMPO_TASK_OPTIONS_INIT;
    t.id = "mp";
    t.blocking_fn = work;
    t.max_running_jobs = 0;
    t.retry_abandoned = node.retry_abandoned;
    if (tempo_scheduler_add_task(s, &t, &err) != TEMPO_OK ||
        (!node.no_schedules && add_schedules(s) != 0)) {
        fprintf(stderr, "mp_node: setup: %s\n", err.message);
        tempo_scheduler_free(s);
        return 2;
    }
    tempo_ev_run_options_t ro = TEMPO_EV_RUN_OPTIONS_INIT;
    ro.handle_signals = true;
    ro.stop_timeout = TEMPO_SECONDS(10);
    tempo_status_t rc = tempo_scheduler_run_with(s, &ro, &err);
    if (rc != TEMPO_OK)
        fprintf(stderr, "mp_node %s: run: %s\n", node.name, err.message);
    tempo_scheduler_free(s);
    close(node.log_fd);
    return rc == TEMPO_OK ? 0 : 1;
}
