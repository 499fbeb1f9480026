/* `tempo run [--store URI] [--identity NAME] [--check] FILE` (docs/cli.md).
 *
 * Reads FILE whole (a bad line: its file:line:column, and nothing starts),
 * makes the store's schedules match it (run_sync.c), then runs a scheduler
 * on a private libev loop until SIGTERM or SIGINT, which stop it gracefully
 * (running commands get 30 s to finish). SIGHUP reads FILE again and applies
 * what changed; a file that no longer parses is reported and the running
 * schedules stay as they were. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <tempo/ev.h>
#include <unistd.h>

#include "cli.h"
#include "run.h"

#define STOP_TIMEOUT TEMPO_SECONDS(30)

typedef struct run_args {
    const char *store;
    const char *identity;
    const char *lease;
    const char *file;
    bool check;
    bool help;
} run_args_t;

static int parse_args(int argc, char **argv, run_args_t *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = true;
            return TEMPO__CLI_OK;
        }
        if (strcmp(arg, "--check") == 0) {
            a->check = true;
            continue;
        }
        const char **slot = strcmp(arg, "--store") == 0      ? &a->store
                            : strcmp(arg, "--identity") == 0 ? &a->identity
                            : strcmp(arg, "--lease") == 0    ? &a->lease
                                                             : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return tempo__cli_usage_error("run: %s needs a value", arg);
            if (*slot)
                return tempo__cli_usage_error("run: %s given twice", arg);
            *slot = argv[++i];
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0')
            return tempo__cli_usage_error("run: unknown option '%s' (see 'tempo run --help')", arg);
        if (a->file)
            return tempo__cli_usage_error("run: one FILE only ('%s' and '%s')", a->file, arg);
        a->file = arg;
    }
    if (!a->file)
        return tempo__cli_usage_error("run: missing FILE (see 'tempo run --help')");
    if (a->lease) {
        char *end;
        errno = 0;
        long v = strtol(a->lease, &end, 10);
        if (errno || *end || v < 1 || v > 86400)
            return tempo__cli_usage_error("run: --lease '%s': give whole seconds, 1 to 86400", a->lease);
    }
    return TEMPO__CLI_OK;
}

/* ---- signals ---- */

static tempo__run_t *the_run;

static void stopped(void *ud, tempo_status_t status, const tempo_error_t *err)
{
    tempo__run_t *run = ud;
    if (status != TEMPO_OK && status != TEMPO_ECANCELLED)
        tempo__run_log(run, "stop: %s", err && err->message[0] ? err->message : tempo_strerror(status));
    tempo__run_log(run, "stopped");
    ev_break(run->evloop, EVBREAK_ALL);
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop, (void)revents;
    tempo__run_t *run = the_run;
    if (run->stopping) {
        tempo__run_log(run, "signal %d again: stopping now", w->signum);
        tempo_scheduler_stop_now(run->s, NULL, NULL);
        return;
    }
    run->stopping = true;
    tempo__run_log(run, "signal %d: stopping (running commands get %d s)", w->signum,
                   (int)(STOP_TIMEOUT / TEMPO_USEC_PER_SEC));
    if (tempo_scheduler_stop(run->s, STOP_TIMEOUT, stopped, run) != TEMPO_OK)
        ev_break(run->evloop, EVBREAK_ALL);
}

static void on_reload(struct ev_loop *loop, ev_signal *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    tempo__run_t *run = the_run;
    char msg[512];
    tempo__runfile_t fresh;
    if (tempo__runfile_load(run->file_path, &fresh, msg, sizeof msg) != TEMPO_OK) {
        tempo__run_log(run, "reload: %s (keeping the schedules as they were)", msg);
        return;
    }
    tempo__runfile_diff_t diff;
    if (tempo__runfile_diff(&run->file, &fresh, &diff) == TEMPO_OK) {
        tempo__run_log(run, "reload: %zu added, %zu removed, %zu changed, %zu unchanged", diff.added, diff.removed,
                       diff.changed, diff.unchanged);
        tempo__runfile_diff_free(&diff);
    }
    /* Schedules and tasks reference their triggers; the old list may go. */
    tempo__runfile_free(&run->file);
    run->file = fresh;
    if (tempo__run_sync(run) != 0)
        tempo__run_log(run, "reload: could not apply %s", run->file_path);
}

/* ---- setup ---- */

static int open_scheduler(tempo__run_t *run, const run_args_t *a)
{
    char *fallback = NULL;
    const char *uri = a->store;
    if (!uri && !(uri = fallback = tempo__run_default_store()))
        return TEMPO__CLI_FAILURE;
    tempo_error_t err;
    tempo_store_t *store = NULL;
    tempo_status_t rc = tempo_store_open(uri, &store, &err);
    if (rc != TEMPO_OK) {
        free(fallback);
        return tempo__cli_usage_error("run: --store %s: %s", uri, tempo__cli_error_text(&err)), tempo__cli_exit_code(rc);
    }
    tempo__run_log(run, "store %s", uri);
    free(fallback);
    tempo_loop_t *loop = NULL;
    if ((rc = tempo_ev_loop_new(run->evloop, &loop, &err)) != TEMPO_OK) {
        tempo_store_free(store);
        return tempo__cli_failure("run: %s", tempo__cli_error_text(&err));
    }
    tempo_scheduler_options_t o = TEMPO_SCHEDULER_OPTIONS_INIT;
    o.identity = a->identity;
    if (a->lease)
        o.lease_duration = TEMPO_SECONDS(strtol(a->lease, NULL, 10));
    o.poll_interval = TEMPO_SECONDS(2); /* other processes' jobs are seen within 2 s */
    if ((rc = tempo_scheduler_new(loop, store, &o, &run->s, &err)) != TEMPO_OK) {
        tempo_store_free(store);
        tempo_loop_free(loop);
        return tempo__cli_usage_error("run: %s", tempo__cli_error_text(&err)), tempo__cli_exit_code(rc);
    }
    uint64_t sub;
    tempo_scheduler_subscribe(run->s, TEMPO_EVENT_ALL, tempo__run_on_event, run, &sub, &err);
    return TEMPO__CLI_OK;
}

/* Run the loop until the sync's store calls are answered; bounded by the
 * store's own timeouts (each call answers, with an error at worst). */
static int initial_sync(tempo__run_t *run)
{
    if (tempo__run_sync(run) != 0)
        return TEMPO__CLI_FAILURE;
    while (run->syncs_pending > 0)
        ev_run(run->evloop, EVRUN_ONCE);
    if (run->sync_failed)
        return tempo__cli_failure("run: the store does not match %s (see above); nothing started", run->file_path);
    return TEMPO__CLI_OK;
}

static int serve(tempo__run_t *run)
{
    ev_signal sigterm, sigint, sighup;
    ev_signal_init(&sigterm, on_stop_signal, SIGTERM);
    ev_signal_init(&sigint, on_stop_signal, SIGINT);
    ev_signal_init(&sighup, on_reload, SIGHUP);
    ev_signal_start(run->evloop, &sigterm);
    ev_signal_start(run->evloop, &sigint);
    ev_signal_start(run->evloop, &sighup);
    tempo_error_t err;
    if (tempo_scheduler_start(run->s, &err) != TEMPO_OK)
        return tempo__cli_failure("run: %s", tempo__cli_error_text(&err));
    tempo__run_log(run, "running %zu schedules from %s as %s (pid %d)", run->file.count, run->file_path,
                   tempo_scheduler_identity(run->s), (int)getpid());
    ev_run(run->evloop, 0);
    ev_signal_stop(run->evloop, &sigterm);
    ev_signal_stop(run->evloop, &sigint);
    ev_signal_stop(run->evloop, &sighup);
    return TEMPO__CLI_OK;
}

int tempo__cli_cmd_run(int argc, char **argv)
{
    run_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc != TEMPO__CLI_OK)
        return rc;
    if (a.help) {
        fputs(tempo__cli_usage_run, stdout);
        return tempo__cli_finish_output();
    }
    tempo__run_t run = {.file_path = a.file, .log = stdout};
    tempo_error_t err;
    if (tempo_zone_get("local", &run.zone, &err) != TEMPO_OK)
        run.zone = tempo_zone_utc();
    char msg[512];
    if (tempo__runfile_load(a.file, &run.file, msg, sizeof msg) != TEMPO_OK)
        return tempo__cli_usage_error("%s", msg);
    if (a.check) {
        printf("%s: %zu schedules\n", a.file, run.file.count);
        tempo__runfile_free(&run.file);
        return tempo__cli_finish_output();
    }
    char real[PATH_MAX];
    run.file_key = strdup(realpath(a.file, real) ? real : a.file);
    run.evloop = ev_loop_new(EVFLAG_AUTO);
    if (!run.file_key || !run.evloop) {
        rc = tempo__cli_failure("run: out of memory");
    } else {
        the_run = &run;
        rc = open_scheduler(&run, &a);
        if (rc == TEMPO__CLI_OK)
            rc = initial_sync(&run);
        if (rc == TEMPO__CLI_OK)
            rc = serve(&run);
    }
    tempo_scheduler_free(run.s);
    tempo__run_log_free(&run);
    tempo__runfile_free(&run.file);
    if (run.evloop)
        ev_loop_destroy(run.evloop);
    free(run.file_key);
    return rc;
}
