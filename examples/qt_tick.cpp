/* A scheduler inside a Qt 5 program (C++), through the GLib adapter.
 *
 * On Linux, Qt's event dispatcher is GLib's main loop by default: the main
 * thread's QCoreApplication::exec() iterates GLib's default GMainContext.
 * So tempo_glib_loop_new(NULL, ...) puts the scheduler in Qt's own loop, and
 * an in-loop task runs on the Qt main thread between two Qt events, where it
 * may use any QObject of that thread. Here a schedule fires every second and
 * prints a line.
 *
 *   $ build/default/bin/example_qt_tick               # runs for 10 s
 *   $ build/default/bin/example_qt_tick --seconds 3
 *
 * Qt can be told not to use GLib (QT_NO_GLIB=1 in the environment), or be
 * built without it; then nothing would ever run tempo's source, and the
 * program says so and exits with code 1 rather than wait forever. */
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <glib-unix.h> /* before Qt: Qt's `signals` macro is not GLib's business */
#include <tempo/glib.h>
#include <tempo/tempo.h>

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QTimer>

namespace {

const char PROG[] = "example_qt_tick";
const tempo_duration_t STOP_TIMEOUT = TEMPO_SECONDS(2);

struct App {
    tempo_scheduler_t *scheduler = nullptr;
    const tempo_zone_t *zone = nullptr; /* times are printed in the local zone */
    int ticks = 0;
    guint sigint = 0; /* the SIGINT source on the default context; 0 = gone */
    bool stopping = false;
    int exit_code = 0;
};

const char *message_of(tempo_status_t status, const tempo_error_t *err)
{
    return err && err->message[0] ? err->message : tempo_strerror(status);
}

/* "14:03:07.250" in the local zone. */
const char *clock_text(const App &app, tempo_time_t t, char *buf, size_t size)
{
    tempo_civil_t c;
    if (t == TEMPO_TIME_NONE || tempo_zone_to_civil(app.zone, t, &c, nullptr) != TEMPO_OK)
        return "--:--:--.---";
    std::snprintf(buf, size, "%02d:%02d:%02d.%03d", c.hour, c.minute, c.second, int(c.usec / 1000));
    return buf;
}

/* In-loop: runs on the Qt main thread, inside QCoreApplication::exec(). */
void tick_task(tempo_job_t *job, void *userdata)
{
    App &app = *static_cast<App *>(userdata);
    char fire[32], now[32];
    std::printf("tick %d: fire time %s, ran at %s\n", ++app.ticks,
                clock_text(app, tempo_job_scheduled_fire_time(job), fire, sizeof fire),
                clock_text(app, tempo_time_now(), now, sizeof now));
    tempo_job_complete(job, nullptr);
}

void on_stopped(void *userdata, tempo_status_t status, const tempo_error_t *err)
{
    App &app = *static_cast<App *>(userdata);
    if (status != TEMPO_OK) {
        std::fprintf(stderr, "%s: stop: %s\n", PROG, message_of(status, err));
        app.exit_code = 1;
    }
    std::printf("stopped: %d ticks\n", app.ticks);
    QCoreApplication::quit();
}

/* Graceful: no new work, a running tick may finish, then on_stopped leaves
 * exec(). Called once, whatever asks first. */
void begin_stop(App &app, const char *why)
{
    if (app.stopping)
        return;
    app.stopping = true;
    std::printf("stopping (%s)\n", why);
    if (tempo_scheduler_stop(app.scheduler, STOP_TIMEOUT, on_stopped, &app) != TEMPO_OK)
        QCoreApplication::quit(); /* never started: nothing to wait for */
}

void schedule_added(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *)
{
    App &app = *static_cast<App *>(userdata);
    if (status == TEMPO_OK || status == TEMPO_ECANCELLED)
        return;
    std::fprintf(stderr, "%s: adding the schedule: %s\n", PROG, message_of(status, err));
    app.exit_code = 1;
    begin_stop(app, "after an error");
}

/* The task and an every-second interval schedule, its first fire now. */
tempo_status_t add_tick(App &app, tempo_error_t *err)
{
    tempo_task_options_t task = TEMPO_TASK_OPTIONS_INIT;
    task.id = "tick";
    task.fn = tick_task;
    task.userdata = &app;
    tempo_status_t rc = tempo_scheduler_add_task(app.scheduler, &task, err);
    if (rc != TEMPO_OK)
        return rc;
    tempo_interval_options_t every = TEMPO_INTERVAL_OPTIONS_INIT;
    every.period = TEMPO_SECONDS(1);
    every.start = tempo_time_now();
    tempo_trigger_t *trigger;
    if ((rc = tempo_trigger_interval_new(&every, &trigger, err)) != TEMPO_OK)
        return rc;
    tempo_schedule_options_t s = TEMPO_SCHEDULE_OPTIONS_INIT;
    s.id = "every-second";
    s.task_id = "tick";
    s.trigger = trigger;
    rc = tempo_scheduler_add_schedule(app.scheduler, &s, schedule_added, &app, err);
    tempo_trigger_free(trigger); /* the scheduler took its own reference */
    return rc;
}

tempo_status_t setup(App &app, tempo_error_t *err)
{
    tempo_loop_t *loop;
    /* NULL: this thread's default context, the one Qt's dispatcher runs. */
    tempo_status_t rc = tempo_glib_loop_new(nullptr, &loop, err);
    if (rc != TEMPO_OK)
        return rc;
    if ((rc = tempo_scheduler_new(loop, nullptr, nullptr, &app.scheduler, err)) != TEMPO_OK) {
        tempo_loop_free(loop); /* not taken over: still ours */
        return rc;
    }
    if ((rc = add_tick(app, err)) != TEMPO_OK)
        return rc;
    return tempo_scheduler_start(app.scheduler, err);
}

/* Qt's dispatcher for this thread runs GLib's default context only if it is
 * (or derives from) QEventDispatcherGlib — QCoreApplication's on Linux
 * unless QT_NO_GLIB is set or Qt was built without GLib. */
bool qt_runs_glib()
{
    QAbstractEventDispatcher *d = QAbstractEventDispatcher::instance();
    return d && d->inherits("QEventDispatcherGlib");
}

gboolean got_signal(gpointer userdata)
{
    App &app = *static_cast<App *>(userdata);
    app.sigint = 0; /* removed by returning G_SOURCE_REMOVE */
    begin_stop(app, "interrupted");
    return G_SOURCE_REMOVE;
}

int usage(FILE *to, int code)
{
    std::fprintf(to, "usage: %s [--seconds N]   (run for N seconds, 1-86400; default 10)\n", PROG);
    return code;
}

/* Returns -1 to go on, or the exit code. */
int parse_args(int argc, char **argv, int *seconds)
{
    *seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (std::strcmp(argv[i], "--seconds") != 0) {
            std::fprintf(stderr, "%s: unknown argument '%s'\n", PROG, argv[i]);
            return usage(stderr, 2);
        }
        if (++i == argc) {
            std::fprintf(stderr, "%s: --seconds needs a value\n", PROG);
            return usage(stderr, 2);
        }
        char *end;
        long v = std::strtol(argv[i], &end, 10);
        if (end == argv[i] || *end || v < 1 || v > 86400) {
            std::fprintf(stderr, "%s: --seconds '%s' is not a whole number of seconds from 1 to 86400\n", PROG,
                         argv[i]);
            return usage(stderr, 2);
        }
        *seconds = int(v);
    }
    return -1;
}

} // namespace

int main(int argc, char **argv)
{
    int seconds;
    int code = parse_args(argc, argv, &seconds);
    if (code >= 0)
        return code;
    std::setvbuf(stdout, nullptr, _IOLBF, 0); /* one line at a time, also into a pipe */

    QCoreApplication qapp(argc, argv); /* creates the main thread's dispatcher */
    if (!qt_runs_glib()) {
        QAbstractEventDispatcher *d = QAbstractEventDispatcher::instance();
        std::fprintf(stderr,
                     "%s: Qt's event dispatcher is %s, not GLib's (is QT_NO_GLIB set?); "
                     "the GLib adapter needs Qt to run GLib's main context\n",
                     PROG, d ? d->metaObject()->className() : "missing");
        return 1;
    }

    App app;
    tempo_error_t err{};
    if (tempo_zone_get("local", &app.zone, &err) != TEMPO_OK) {
        std::fprintf(stderr, "%s: %s; printing UTC times\n", PROG, err.message);
        app.zone = tempo_zone_utc();
    }
    if (setup(app, &err) != TEMPO_OK) {
        std::fprintf(stderr, "%s: %s\n", PROG, message_of(err.code, &err));
        tempo_scheduler_free(app.scheduler); /* nullptr is fine */
        return 1;
    }
    std::printf("scheduler '%s' running in Qt %s's event loop (%s) for %d s\n", tempo_scheduler_identity(app.scheduler),
                qVersion(), QAbstractEventDispatcher::instance()->metaObject()->className(), seconds);
    QTimer::singleShot(seconds * 1000, &qapp, [&app] { begin_stop(app, "time is up"); });
    /* Qt itself has no signal hook; GLib's, on the default context that Qt
     * runs, serves. */
    app.sigint = g_unix_signal_add(SIGINT, got_signal, &app);
    qapp.exec();

    /* Stopped (on_stopped left exec()). */
    if (app.sigint)
        g_source_remove(app.sigint);
    tempo_scheduler_free(app.scheduler);
    return app.exit_code;
}
