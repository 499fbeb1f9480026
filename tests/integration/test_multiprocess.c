/* Several scheduler processes on one store (issue 5): every due fire time
 * runs exactly once; a process killed with SIGKILL loses nothing (its jobs
 * are reported abandoned and run again by the others); after all processes
 * were down, each coalesce policy and the misfire grace time decide what
 * runs. Real processes (mp_node), real time, a real store:
 *
 *     test_multiprocess sqlite     a file in a fresh temporary directory
 *     test_multiprocess mongodb    $TEMPO_TEST_MONGODB_URI, else the URI in the
 *                                  file $TEMPO_MONGO_URI_FILE (the FerretDB
 *                                  fixture's); a fresh database per case. With
 *                                  $TEMPO_MONGO_SCRIPT also: a server of its own
 *                                  restarted in the middle of a run.
 *
 * Waiting here is for conditions (lines in the shared log), bounded by
 * deadlines; the only fixed waits are the scenario's own downtime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <tempo/tempo.h>
#include <time.h>
#include <unistd.h>

#include "mongoc_shm.h"
#include "mp_log.h"
#include "test_support.h"

#define NODES 3

static char store_uri[1024], dir[256], log_path[300], node_bin[1024], mongo_base[1024];
static const char *kind;
static int scenario;

/* How hard each scenario pushes. SQLite takes thousands of jobs a second;
 * FerretDB (MongoDB over its SQLite backend, which scans collections for
 * most queries) about ten, so on it the same scenarios run with longer
 * periods — the same number of jobs (2 000 for exactly-once), spread out. */
typedef struct scale {
    int64_t period;          /* of the schedules of exactly-once */
    int once_schedules, once_fires;
    int64_t kill_period;
    int kill_schedules, kill_fires, kill_lease_ms;
    int64_t restart_period;
    /* Jobs' lease in exactly-once, where no process dies: long enough that a
     * release slowed by the server (FerretDB under a loaded machine, or
     * sanitizers: seconds) still lands before it lapses — a lapse there is
     * reported abandoned, which this scenario counts as a failure. */
    int once_lease_ms;
} scale_t;
static const scale_t sqlite_scale = {1000000, 200, 12, 1000000, 40, 10, 2000, 1000000, 3000};
static const scale_t mongo_scale = {20000000, 200, 10, 4000000, 20, 8, 10000, 4000000, 30000};
static const scale_t *sc = &sqlite_scale;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Set by a scenario that passed: teardown keeps the temporary directory
 * (the shared log, and for SQLite the store) of one that did not, and says
 * where, with the store's URI (a MongoDB database is left as it was). */
static bool scenario_passed;

/* A fresh store and log per scenario. */
static int setup(void **state)
{
    (void)state;
    scenario++;
    snprintf(dir, sizeof dir, "/tmp/tempo-mp-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(log_path, sizeof log_path, "%s/runs.log", dir);
    scenario_passed = false;
    if (strcmp(kind, "sqlite") == 0) {
        snprintf(store_uri, sizeof store_uri, "sqlite:%s/store.db", dir);
    } else {
        const char *base = mongo_base;
        /* mongodb://host:port[/db][?opts] -> mongodb://host:port/<fresh db>[?opts] */
        const char *hosts = strstr(base, "://");
        assert_non_null(hosts);
        const char *slash = strchr(hosts + 3, '/'), *query = strchr(hosts + 3, '?');
        size_t head = slash ? (size_t)(slash - base) : query ? (size_t)(query - base) : strlen(base);
        snprintf(store_uri, sizeof store_uri, "%.*s/tempo_mp_%d_%d%s", (int)head, base, (int)getpid(), scenario,
                 query ? query : "");
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!scenario_passed) {
        fprintf(stderr, "[  KEPT    ] %s (log %s, store %s)\n", dir, log_path, store_uri);
        return 0;
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}

typedef struct spawn_args {
    const char *name;
    int schedules, hold_ms, lease_ms, grace_ms;
    int64_t start, end, period;
    const char *coalesce, *prefix;
    bool retry_abandoned, no_schedules;
} spawn_args_t;

static pid_t spawn(const spawn_args_t *a)
{
    char sched[16], hold[16], lease[16], grace[16], start[32], end[32], period[32];
    snprintf(period, sizeof period, "%lld", (long long)((a->period ? a->period : sc->period) / 1000));
    snprintf(sched, sizeof sched, "%d", a->schedules);
    snprintf(hold, sizeof hold, "%d", a->hold_ms);
    snprintf(lease, sizeof lease, "%d", a->lease_ms ? a->lease_ms : 3000);
    snprintf(grace, sizeof grace, "%d", a->grace_ms);
    snprintf(start, sizeof start, "%lld", (long long)a->start);
    snprintf(end, sizeof end, "%lld", (long long)a->end);
    const char *argv[32] = {node_bin, "--store", store_uri, "--name", a->name, "--log", log_path,
                            "--schedules", sched, "--hold-ms", hold, "--lease-ms", lease,
                            "--start-us", start, "--end-us", end,
                            "--coalesce", a->coalesce ? a->coalesce : "all",
                            "--prefix", a->prefix ? a->prefix : "s", "--period-ms", period};
    int n = 23;
    if (a->grace_ms > 0) {
        argv[n++] = "--grace-ms";
        argv[n++] = grace;
    }
    if (a->retry_abandoned)
        argv[n++] = "--retry-abandoned";
    if (a->no_schedules)
        argv[n++] = "--no-schedules";
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(node_bin, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void stop_all(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    for (int i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("node %d ended with status %d", i, status);
        pids[i] = 0;
    }
}

/* Poll the log until `done` says so or `deadline` passes; false on timeout. */
static bool wait_log(mp_log_t *log, bool (*done)(const mp_log_t *, void *), void *ud, int64_t deadline)
{
    for (;;) {
        mp_log_read(log_path, log);
        if (done(log, ud))
            return true;
        if (now_us() > deadline)
            return false;
        sleep_ms(100);
    }
}

typedef struct want {
    int schedules;
    const char *prefix;
    int64_t start, period, last; /* fires start, start+period, ..., last */
} want_t;

static int fires_of(const want_t *w)
{
    return (int)((w->last - w->start) / w->period) + 1;
}

static bool all_done(const mp_log_t *log, void *ud)
{
    const want_t *w = ud;
    for (int i = 0; i < w->schedules; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s%03d", w->prefix, i);
        for (int64_t at = w->start; at <= w->last; at += w->period)
            if (mp_count(log, "done", id, at) == 0)
                return false;
    }
    return true;
}

/* The first whole period after `after_us` (periods count from the epoch). */
static int64_t next_period(int64_t after_us, int64_t period)
{
    return (after_us / period + 1) * period;
}

/* Every result the log names as done is in the store, as SUCCESS. */
typedef struct lookup {
    int answers;
    tempo_status_t status;
    tempo_outcome_t outcome;
} lookup_t;

static void got_result(void *ud, tempo_status_t status, const tempo_error_t *err, const tempo_job_result_t *res)
{
    (void)err;
    lookup_t *l = ud;
    l->answers++;
    l->status = status;
    l->outcome = status == TEMPO_OK ? res->outcome : TEMPO_OUTCOME_ERROR;
}

static void check_results(const mp_log_t *log, const char *what, tempo_outcome_t outcome)
{
    tempo_vloop_t *vloop;
    tempo_loop_t *loop;
    tempo_store_t *store;
    tempo_error_t err;
    assert_int_equal(tempo_vloop_new(now_us(), &vloop, &loop, &err), TEMPO_OK);
    assert_int_equal(tempo_store_open(store_uri, &store, &err), TEMPO_OK);
    assert_int_equal(store->ops->start(store->self, loop, &err), TEMPO_OK);
    int checked = 0;
    for (size_t i = 0; i < log->n; i++) {
        if (strcmp(log->v[i].what, what) != 0)
            continue;
        lookup_t l = {0};
        store->ops->get_job_result(store->self, log->v[i].job, got_result, &l);
        for (int waited = 0; l.answers == 0 && waited < 20000; waited += 50)
            tempo_vloop_wait(vloop, 50);
        assert_int_equal(l.answers, 1);
        if (l.status != TEMPO_OK)
            fail_msg("job %s (%s at %lld): no result in the store (%s)", log->v[i].job, log->v[i].schedule,
                     (long long)log->v[i].at, tempo_strerror(l.status));
        assert_int_equal(l.outcome, outcome);
        checked++;
    }
    print_message("[          ] %d '%s' results checked in the store\n", checked, what);
    tempo_store_free(store);
    tempo_loop_free(loop);
    tempo_vloop_free(vloop);
}

/* Diagnostics for a fire not run exactly once: every log entry of (id, at)
 * — start/done/abandoned/missed, job id, node — so a duplicate shows
 * whether one job id ran twice or two jobs were made for the fire. */
static void report_fire(const mp_log_t *log, const char *id, int64_t at)
{
    fprintf(stderr, "[  FIRE    ] %s at %lld:", id, (long long)at);
    for (size_t i = 0; i < log->n; i++)
        if (strcmp(log->v[i].schedule, id) == 0 && log->v[i].at == at)
            fprintf(stderr, " %s/%s/%s", log->v[i].what, log->v[i].job, log->v[i].node);
    fprintf(stderr, "\n");
}

/* Report every fire of `w` whose "done" count is not 1. */
static int report_not_once(const mp_log_t *log, const char *prefix, int schedules, int64_t start, int64_t period,
                           int64_t last)
{
    int bad = 0;
    for (int i = 0; i < schedules; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s%03d", prefix, i);
        for (int64_t at = start; at <= last; at += period)
            if (mp_count(log, "done", id, at) != 1 && bad++ < 40)
                report_fire(log, id, at);
    }
    return bad;
}

/* 3 processes, 200 schedules every second for 12 s: 2 400 fires, each run
 * exactly once, each with its result stored. */
static void test_exactly_once(void **state)
{
    (void)state;
    int64_t start = next_period(now_us() + 2000000, sc->period);
    want_t w = {sc->once_schedules, "s", start, sc->period, start + (sc->once_fires - 1) * sc->period};
    pid_t pids[NODES];
    const char *names[NODES] = {"node-a", "node-b", "node-c"};
    for (int i = 0; i < NODES; i++)
        pids[i] = spawn(&(spawn_args_t){.name = names[i], .schedules = w.schedules, .start = start,
                                        .end = w.last, .lease_ms = sc->once_lease_ms});
    mp_log_t log = {0};
    bool ok = wait_log(&log, all_done, &w, w.last + 60 * 1000000 + sc->period);
    sleep_ms(1500); /* a duplicate, if any, would show up by now: stragglers are logged too */
    stop_all(pids, NODES);
    mp_log_read(log_path, &log);
    report_not_once(&log, "s", w.schedules, w.start, w.period, w.last);
    if (!ok) {
        mp_log_free(&log);
        fail_msg("not every fire ran within a minute of the last one");
    }
    int per_node[NODES] = {0}, dups = 0, lost = 0;
    for (int i = 0; i < w.schedules; i++) {
        char id[32];
        snprintf(id, sizeof id, "s%03d", i);
        for (int64_t at = w.start; at <= w.last; at += w.period) {
            int d = mp_count(&log, "done", id, at), s = mp_count(&log, "start", id, at);
            dups += (d > 1) + (s > 1);
            lost += d == 0;
        }
    }
    for (size_t i = 0; i < log.n; i++)
        for (int k = 0; k < NODES; k++)
            per_node[k] += strcmp(log.v[i].what, "done") == 0 && strcmp(log.v[i].node, names[k]) == 0;
    int fires = w.schedules * fires_of(&w);
    print_message("[          ] %s: %d fires, runs per node %d / %d / %d, duplicates %d, lost %d\n", kind, fires,
                  per_node[0], per_node[1], per_node[2], dups, lost);
    assert_int_equal(dups, 0);
    assert_int_equal(lost, 0);
    assert_int_equal(mp_count(&log, "done", NULL, INT64_MIN), fires);
    assert_int_equal(mp_count(&log, "abandoned", NULL, INT64_MIN), 0);
    assert_true(fires >= 2000);
    check_results(&log, "done", TEMPO_OUTCOME_SUCCESS);
    mp_log_free(&log);
    scenario_passed = true;
}

/* kill -9 one of three processes while it runs jobs: after its lease its
 * jobs are reported abandoned, run again by the others (the task allows
 * it), and every fire ends up done exactly once. The victim is the first
 * node seen busy: which one wins the races for jobs is the machine's
 * business (a node slowed by sanitizers may win none). */
typedef struct victim {
    const char *const *names;
    int index; /* the victim, once busy */
    int in_flight, started;
} victim_t;

static bool node_busy(const mp_log_t *log, const char *name, int *started, int *in_flight)
{
    int starts = 0, ends = 0;
    for (size_t i = 0; i < log->n; i++) {
        if (strcmp(log->v[i].node, name) != 0)
            continue;
        starts += strcmp(log->v[i].what, "start") == 0;
        ends += strcmp(log->v[i].what, "done") == 0;
    }
    *started = starts;
    *in_flight = starts - ends;
    return starts >= 5 && starts - ends >= 2;
}

static bool victim_busy(const mp_log_t *log, void *ud)
{
    victim_t *v = ud;
    int started = 0;
    for (int i = 0; i < NODES; i++) {
        if (node_busy(log, v->names[i], &v->started, &v->in_flight)) {
            v->index = i;
            return true;
        }
        started += v->started;
    }
    v->started = started;
    return false;
}

static void test_kill9(void **state)
{
    (void)state;
    int64_t start = next_period(now_us() + 2000000, sc->kill_period);
    want_t w = {sc->kill_schedules, "s", start, sc->kill_period, start + (sc->kill_fires - 1) * sc->kill_period};
    pid_t pids[NODES];
    const char *names[NODES] = {"node-a", "node-b", "node-c"};
    for (int i = 0; i < NODES; i++)
        pids[i] = spawn(&(spawn_args_t){.name = names[i], .schedules = w.schedules, .start = start,
                                        .end = w.last, .hold_ms = 800, .lease_ms = sc->kill_lease_ms,
                                        .period = w.period,
                                        .retry_abandoned = true});
    mp_log_t log = {0};
    victim_t v = {names, -1, 0, 0};
    bool busy = wait_log(&log, victim_busy, &v, w.last);
    if (!busy) {
        stop_all(pids, NODES);
        mp_log_free(&log);
        fail_msg("no node ever had jobs in flight (%d started in all)", v.started);
    }
    const char *victim = names[v.index];
    kill(pids[v.index], SIGKILL);
    int status;
    assert_int_equal(waitpid(pids[v.index], &status, 0), pids[v.index]);
    tempo_test_forget_shm(pids[v.index]);
    pids[v.index] = 0;
    bool ok = wait_log(&log, all_done, &w, w.last + 60 * 1000000 + 3 * (int64_t)sc->kill_lease_ms * 1000);
    sleep_ms(1500);
    stop_all(pids, NODES);
    mp_log_read(log_path, &log);
    report_not_once(&log, "s", w.schedules, w.start, w.period, w.last);
    if (!ok) {
        mp_log_free(&log);
        fail_msg("not every fire ran after the kill");
    }
    /* The victim's unfinished jobs: each reported abandoned by a survivor,
     * and its fire done by a survivor. */
    int unfinished = 0, abandoned = 0;
    for (size_t i = 0; i < log.n; i++) {
        const mp_entry_t *e = &log.v[i];
        if (strcmp(e->node, victim) != 0 || strcmp(e->what, "start") != 0)
            continue;
        bool finished = false;
        for (size_t j = 0; j < log.n; j++)
            finished |= strcmp(log.v[j].what, "done") == 0 && strcmp(log.v[j].job, e->job) == 0;
        if (finished)
            continue;
        unfinished++;
        for (size_t j = 0; j < log.n; j++)
            abandoned += strcmp(log.v[j].what, "abandoned") == 0 && strcmp(log.v[j].job, e->job) == 0;
    }
    int dups = 0;
    for (int i = 0; i < w.schedules; i++) {
        char id[32];
        snprintf(id, sizeof id, "s%03d", i);
        for (int64_t at = w.start; at <= w.last; at += w.period)
            dups += mp_count(&log, "done", id, at) != 1;
    }
    print_message("[          ] %s: killed %s with %d jobs in flight (%d unfinished in the log), %d reported "
                  "abandoned; fires not done exactly once: %d\n",
                  kind, victim, v.in_flight, unfinished, abandoned, dups);
    assert_true(unfinished >= 1);
    assert_int_equal(abandoned, unfinished);
    assert_int_equal(dups, 0);
    check_results(&log, "abandoned", TEMPO_OUTCOME_ABANDONED);
    mp_log_free(&log);
    scenario_passed = true;
}

/* All processes down for a few seconds, then back: what each schedule
 * runs for the fire times it missed is decided by its coalesce policy and
 * misfire grace time (docs/guide.md). Four groups of 5 schedules, every
 * second: coalesce all / latest / earliest, and all with a 1.5 s grace. */
#define GROUPS 4
static const char *group_prefix[GROUPS] = {"all", "lat", "ear", "gr"};
static const char *group_coalesce[GROUPS] = {"all", "latest", "earliest", "all"};
/* The grace group's grace: 1.5 periods (group_grace_ms()). */
static const bool group_graced[GROUPS] = {false, false, false, true};

static int group_grace_ms(int g)
{
    return group_graced[g] ? (int)(sc->restart_period * 3 / 2 / 1000) : 0;
}

static void spawn_groups(pid_t pids[NODES][GROUPS], int64_t start, int64_t last)
{
    const char *names[NODES] = {"node-a", "node-b", "node-c"};
    for (int i = 0; i < NODES; i++)
        for (int g = 0; g < GROUPS; g++)
            pids[i][g] = spawn(&(spawn_args_t){.name = names[i], .schedules = 5, .start = start, .end = last,
                                               .prefix = group_prefix[g], .coalesce = group_coalesce[g],
                                               .grace_ms = group_grace_ms(g), .period = sc->restart_period});
}

static bool groups_done_until(const mp_log_t *log, void *ud)
{
    const int64_t *until = ud;
    for (int g = 0; g < GROUPS - 1; g++) { /* the grace group may miss some */
        want_t w = {5, group_prefix[g], until[0], sc->restart_period, until[1]};
        if (!all_done(log, &w))
            return false;
    }
    return true;
}

/* Fires of schedule `id` in (after, upto] with an entry `what`. */
static int count_between(const mp_log_t *log, const char *what, const char *id, int64_t after, int64_t upto)
{
    int n = 0;
    for (size_t i = 0; i < log->n; i++)
        n += strcmp(log->v[i].what, what) == 0 && strcmp(log->v[i].schedule, id) == 0 && log->v[i].at > after &&
             log->v[i].at <= upto;
    return n;
}

static int64_t last_done_before(const mp_log_t *log, const char *id, int64_t before)
{
    int64_t last = INT64_MIN;
    for (size_t i = 0; i < log->n; i++)
        if (strcmp(log->v[i].what, "done") == 0 && strcmp(log->v[i].schedule, id) == 0 &&
            log->v[i].at < before && log->v[i].at > last)
            last = log->v[i].at;
    return last;
}

static void test_restart(void **state)
{
    (void)state;
    int64_t P = sc->restart_period, start = next_period(now_us() + 2000000, P), last = start + 16 * P;
    pid_t pids[NODES][GROUPS];
    spawn_groups(pids, start, last);
    mp_log_t log = {0};
    int64_t until[2] = {start, start + 2 * P};
    bool ok = wait_log(&log, groups_done_until, until, start + 30 * 1000000 + 3 * P);
    for (int i = 0; i < NODES; i++)
        stop_all(pids[i], GROUPS);
    if (!ok)
        fail_msg("the first fires did not run");
    int64_t stopped = now_us();
    /* Down for ~4 periods; back half a period after a fire time, so no fire
     * is due while the processes start. */
    int64_t back = next_period(stopped + 3 * P, P) + P / 2;
    sleep_ms((int)((back - now_us()) / 1000));
    int64_t restarted = now_us();
    mp_log_t before = {0};
    mp_log_read(log_path, &before);
    spawn_groups(pids, start, last);
    until[0] = last;
    until[1] = last;
    ok = wait_log(&log, groups_done_until, until, last + 30 * 1000000 + 3 * P);
    sleep_ms(1000);
    for (int i = 0; i < NODES; i++)
        stop_all(pids[i], GROUPS);
    mp_log_read(log_path, &log);
    if (!ok)
        fail_msg("the schedules did not run to their end after the restart");
    int checked = 0;
    for (int g = 0; g < GROUPS; g++) {
        for (int k = 0; k < 5; k++) {
            char id[32];
            snprintf(id, sizeof id, "%s%03d", group_prefix[g], k);
            int64_t l = last_done_before(&before, id, stopped + 1);
            assert_true(l != INT64_MIN);
            /* Missed while down: every fire in (l, restarted]. */
            int64_t first_missed = l + P, last_missed = (restarted / P) * P;
            assert_true(last_missed >= first_missed + 2 * P); /* at least 3 fires missed */
            int runs = count_between(&log, "done", id, l, last_missed);
            int missed = count_between(&log, "missed", id, l, last_missed);
            int n_missed = (int)((last_missed - first_missed) / P) + 1;
            /* A step may have made the job for first_missed just before the
             * stop, without any worker starting it: that job is not missed
             * (it was queued) and runs after the restart, besides what the
             * policy makes of the fires after it. */
            int queued = 0;
            switch (g) {
            case 0: /* all: each one, late */
                assert_int_equal(runs, n_missed);
                break;
            case 1: /* latest: one, for the latest */
                assert_int_equal(mp_count(&log, "done", id, last_missed), 1);
                queued = runs == 2 ? mp_count(&log, "done", id, first_missed) : 0;
                assert_int_equal(runs, 1 + queued);
                break;
            case 2: /* earliest: one, for the earliest */
                assert_int_equal(mp_count(&log, "done", id, first_missed), 1);
                queued = runs == 2 ? mp_count(&log, "done", id, first_missed + P) : 0;
                assert_int_equal(runs, 1 + queued);
                break;
            default: /* all with 1.5 s grace: older ones missed their deadline */
                assert_int_equal(runs + missed, n_missed);
                assert_true(missed >= n_missed - 2);
                assert_int_equal(count_between(&log, "done", id, l, restarted - 2 * P), 0);
                break;
            }
            /* After the restart, every later fire once. */
            for (int64_t at = last_missed + P; at <= last; at += P) {
                if (mp_count(&log, "done", id, at) + mp_count(&log, "missed", id, at) != 1)
                    report_fire(&log, id, at);
                assert_int_equal(mp_count(&log, "done", id, at) + mp_count(&log, "missed", id, at), 1);
            }
            checked++;
        }
    }
    print_message("[          ] %s: down %.1f s; %d schedules checked against their coalesce policy\n", kind,
                  (double)(restarted - stopped) / 1e6, checked);
    mp_log_free(&before);
    mp_log_free(&log);
    scenario_passed = true;
}

/* The server goes down for a few seconds in the middle of a run and comes
 * back on the same port with its data: the processes ride it out by
 * themselves (store errors, retries with backoff) and every fire still runs
 * exactly once. */
static void server(const char *cmd, const char *state_dir)
{
    char line[1400];
    snprintf(line, sizeof line, "bash '%s' %s '%s' >/dev/null", getenv("TEMPO_MONGO_SCRIPT"), cmd, state_dir);
    if (system(line) != 0)
        fail_msg("ferretdb-test.sh %s failed", cmd);
}

static void test_server_restart(void **state)
{
    (void)state;
    if (!getenv("TEMPO_MONGO_SCRIPT") || getenv("TEMPO_TEST_MONGODB_URI")) {
        /* A server we cannot restart (the user's own): say so. */
        print_message("[  SKIP    ] the server restart needs FerretDB started by this test "
                      "(TEMPO_MONGO_SCRIPT set, TEMPO_TEST_MONGODB_URI unset)\n");
        scenario_passed = true; /* nothing to keep */
        skip();
    }
    char state_dir[300], uri_file[340], base[900];
    snprintf(state_dir, sizeof state_dir, "%s/server", dir);
    snprintf(uri_file, sizeof uri_file, "%s/uri", state_dir);
    server("start", state_dir);
    FILE *f = fopen(uri_file, "r");
    assert_non_null(f);
    assert_non_null(fgets(base, sizeof base, f));
    fclose(f);
    base[strcspn(base, "\n")] = '\0';
    snprintf(store_uri, sizeof store_uri, "%s%stempo_mp_restart", base, base[strlen(base) - 1] == '/' ? "" : "/");
    /* Its own scale: 30 schedules every 2 s, about 15 jobs a second. */
    int64_t start = (now_us() / 2000000 + 2) * 2000000;
    want_t w = {30, "s", start, 2000000, start + 14 * 2000000};
    pid_t pids[NODES];
    const char *names[NODES] = {"node-a", "node-b", "node-c"};
    for (int i = 0; i < NODES; i++)
        pids[i] = spawn(&(spawn_args_t){.name = names[i], .schedules = w.schedules, .start = start,
                                        .end = w.last, .lease_ms = 10000, .period = w.period});
    mp_log_t log = {0};
    want_t first = w;
    first.last = start + 2 * w.period;
    bool ok = wait_log(&log, all_done, &first, start + 40 * 1000000);
    if (ok) {
        server("stop", state_dir);
        sleep_ms(3000); /* down: the scenario itself */
        server("start", state_dir);
        ok = wait_log(&log, all_done, &w, w.last + 90 * 1000000);
    }
    sleep_ms(1500);
    stop_all(pids, NODES);
    server("stop", state_dir);
    mp_log_read(log_path, &log);
    report_not_once(&log, "s", w.schedules, w.start, w.period, w.last);
    if (!ok)
        fail_msg("not every fire ran after the server came back");
    int dups = 0;
    for (int i = 0; i < w.schedules; i++) {
        char id[32];
        snprintf(id, sizeof id, "s%03d", i);
        for (int64_t at = w.start; at <= w.last; at += w.period)
            dups += mp_count(&log, "done", id, at) != 1;
    }
    print_message("[          ] %s: server down 3 s mid-run; %d fires, not done exactly once: %d\n", kind,
                  w.schedules * fires_of(&w), dups);
    assert_int_equal(dups, 0);
    mp_log_free(&log);
    scenario_passed = true;
}

/* The MongoDB server's URI: the environment's, or the fixture's file. */
static void find_mongo(void)
{
    const char *env = getenv("TEMPO_TEST_MONGODB_URI"), *file = getenv("TEMPO_MONGO_URI_FILE");
    if (env && *env) {
        snprintf(mongo_base, sizeof mongo_base, "%s", env);
        return;
    }
    FILE *f = file ? fopen(file, "r") : NULL;
    if (!f || !fgets(mongo_base, sizeof mongo_base, f)) {
        if (f)
            fclose(f);
        tempo_test_skip("no MongoDB server: TEMPO_TEST_MONGODB_URI unset and no URI from the FerretDB fixture");
    }
    fclose(f);
    mongo_base[strcspn(mongo_base, "\n")] = '\0';
}

int main(int argc, char **argv)
{
    kind = argc > 1 ? argv[1] : "sqlite";
    const char *bin = getenv("TEMPO_BINARY_DIR");
    snprintf(node_bin, sizeof node_bin, "%s/bin/mp_node", bin ? bin : ".");
    if (strcmp(kind, "mongodb") == 0) {
        find_mongo();
        sc = &mongo_scale;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        /* MongoDB only: the server restarted mid-run (last, so it is left
         * out for SQLite, which has no server). */
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
    };
    size_t n = sizeof tests / sizeof tests[0] - (strcmp(kind, "mongodb") == 0 ? 0 : 1);
    char name[64];
    snprintf(name, sizeof name, "multi-process on %s", kind);
    return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}
