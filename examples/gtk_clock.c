/* A clock in a GTK 3 window, ticked by a schedule.
 *
 * GTK runs GLib's default main context (gtk_main), so a scheduler made with
 * tempo_glib_loop_new(NULL, ...) lives in the same loop as the widgets: an
 * in-loop task runs on the GUI thread and may change a widget directly — no
 * g_idle_add, no locking. Here a cron schedule fires every second and its
 * task writes the fire time and a counter into a label.
 *
 *   $ build/default/bin/example_gtk_clock               # until the window is closed
 *   $ build/default/bin/example_gtk_clock --seconds 5   # or for 5 seconds
 *
 * Each time the label changes, the program also prints "label: <text>" on
 * stdout, a line a test (or a curious user) can read. Closing the window,
 * Ctrl-C or the end of --seconds stop the scheduler gracefully, then leave
 * gtk_main. (A blocking task, on the thread pool, must not touch widgets:
 * only in-loop tasks run on the GUI thread.) */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gtk/gtk.h>
#include <tempo/glib.h>
#include <tempo/tempo.h>

#define PROG "example_gtk_clock"
#define STOP_TIMEOUT TEMPO_SECONDS(2) /* the tick task finishes at once; this is a bound */

typedef struct app {
    tempo_scheduler_t *scheduler;
    const tempo_zone_t *zone; /* fire times are shown in the local zone */
    GtkWidget *window;        /* NULL once GTK destroyed it */
    GtkWidget *label;
    int ticks;
    guint run_for, sigint, sigterm; /* our sources on the default context; 0 = gone */
    bool stopping;
    int exit_code;
} app_t;

/* "14:03:07" in the local zone. */
static const char *clock_text(const app_t *app, tempo_time_t t, char *buf, size_t size)
{
    tempo_civil_t c;
    if (t == TEMPO_TIME_NONE || tempo_zone_to_civil(app->zone, t, &c, NULL) != TEMPO_OK)
        return "--:--:--";
    snprintf(buf, size, "%02d:%02d:%02d", c.hour, c.minute, c.second);
    return buf;
}

/* Change the label, and say so on stdout with what the widget now holds. */
static void show(app_t *app, const char *text)
{
    if (!app->label)
        return;
    gtk_label_set_text(GTK_LABEL(app->label), text);
    printf("label: %s\n", gtk_label_get_text(GTK_LABEL(app->label)));
}

/* ---- the task ---- */

/* In-loop: called by the scheduler from GLib's default context, that is, on
 * the GUI thread, between two GTK events. */
static void tick_task(tempo_job_t *job, void *userdata)
{
    app_t *app = userdata;
    char text[64], at[16];
    app->ticks++;
    snprintf(text, sizeof text, "tick %d at %s", app->ticks,
             clock_text(app, tempo_job_scheduled_fire_time(job), at, sizeof at));
    show(app, text);
    tempo_job_complete(job, NULL);
}

/* ---- stopping ---- */

static void on_stopped(void *userdata, tempo_status_t status, const tempo_error_t *err)
{
    app_t *app = userdata;
    if (status != TEMPO_OK) {
        fprintf(stderr, "%s: stop: %s\n", PROG, err && err->message[0] ? err->message : tempo_strerror(status));
        app->exit_code = 1;
    }
    printf("stopped: %d ticks\n", app->ticks);
    gtk_main_quit();
}

static void remove_source(guint *id)
{
    if (*id)
        g_source_remove(*id);
    *id = 0;
}

/* Graceful: the scheduler takes no new work and lets a running tick finish,
 * then on_stopped leaves gtk_main. Called once, whatever asks first. */
static void begin_stop(app_t *app, const char *why)
{
    if (app->stopping)
        return;
    app->stopping = true;
    remove_source(&app->run_for);
    remove_source(&app->sigint);
    remove_source(&app->sigterm);
    printf("stopping (%s)\n", why);
    tempo_status_t rc = tempo_scheduler_stop(app->scheduler, STOP_TIMEOUT, on_stopped, app);
    if (rc != TEMPO_OK) { /* never started: nothing to wait for */
        fprintf(stderr, "%s: stop: %s\n", PROG, tempo_strerror(rc));
        app->exit_code = 1;
        gtk_main_quit();
    }
}

/* Each source callback forgets its id first: it is removed by returning
 * G_SOURCE_REMOVE, and begin_stop must not remove it a second time. */
static gboolean time_is_up(gpointer data)
{
    app_t *app = data;
    app->run_for = 0;
    begin_stop(app, "time is up");
    return G_SOURCE_REMOVE;
}

static gboolean got_sigint(gpointer data)
{
    app_t *app = data;
    app->sigint = 0;
    begin_stop(app, "interrupted");
    return G_SOURCE_REMOVE;
}

static gboolean got_sigterm(gpointer data)
{
    app_t *app = data;
    app->sigterm = 0;
    begin_stop(app, "terminated");
    return G_SOURCE_REMOVE;
}

/* The window stays until the scheduler has stopped (TRUE: not destroyed
 * now); main() destroys it after gtk_main returns. */
static gboolean window_closing(GtkWidget *window, GdkEvent *event, gpointer data)
{
    (void)window;
    (void)event;
    begin_stop(data, "window closed");
    return TRUE;
}

static void window_destroyed(GtkWidget *window, gpointer data)
{
    (void)window;
    app_t *app = data;
    app->window = NULL;
    app->label = NULL;
}

/* The X server mapped the window: it is on screen (a test waits for it). */
static gboolean window_mapped(GtkWidget *window, GdkEvent *event, gpointer data)
{
    (void)window;
    (void)event;
    (void)data;
    printf("window: shown\n");
    return FALSE;
}

/* ---- setting up ---- */

static void build_window(app_t *app)
{
    app->window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(app->window), "tempo clock");
    gtk_window_set_default_size(GTK_WINDOW(app->window), 360, 140);
    app->label = gtk_label_new(NULL);
    PangoAttrList *big = pango_attr_list_new();
    pango_attr_list_insert(big, pango_attr_scale_new(2.0));
    gtk_label_set_attributes(GTK_LABEL(app->label), big); /* kept across set_text */
    pango_attr_list_unref(big);
    gtk_container_add(GTK_CONTAINER(app->window), app->label);
    g_signal_connect(app->window, "delete-event", G_CALLBACK(window_closing), app);
    g_signal_connect(app->window, "destroy", G_CALLBACK(window_destroyed), app);
    g_signal_connect(app->window, "map-event", G_CALLBACK(window_mapped), app);
    show(app, "waiting for the first tick");
}

static void schedule_added(void *userdata, tempo_status_t status, const tempo_error_t *err, const char *id)
{
    app_t *app = userdata;
    (void)id;
    if (status == TEMPO_OK || status == TEMPO_ECANCELLED)
        return;
    fprintf(stderr, "%s: adding the schedule: %s\n", PROG, err && err->message[0] ? err->message : tempo_strerror(status));
    app->exit_code = 1;
    begin_stop(app, "after an error");
}

static tempo_status_t add_tick(app_t *app, tempo_error_t *err)
{
    tempo_task_options_t task = TEMPO_TASK_OPTIONS_INIT;
    task.id = "tick";
    task.fn = tick_task;
    task.userdata = app;
    tempo_status_t rc = tempo_scheduler_add_task(app->scheduler, &task, err);
    if (rc != TEMPO_OK)
        return rc;
    /* Every second, on the second (6 fields: seconds first), local time.
     * After a suspension the default coalescing (latest) makes one tick,
     * not a burst of the missed ones. */
    tempo_cron_options_t cron = TEMPO_CRON_OPTIONS_INIT;
    tempo_trigger_t *every_second;
    if ((rc = tempo_trigger_cron_new("* * * * * *", &cron, &every_second, err)) != TEMPO_OK)
        return rc;
    tempo_schedule_options_t s = TEMPO_SCHEDULE_OPTIONS_INIT;
    s.id = "clock";
    s.task_id = "tick";
    s.trigger = every_second;
    rc = tempo_scheduler_add_schedule(app->scheduler, &s, schedule_added, app, err);
    tempo_trigger_free(every_second); /* the scheduler took its own reference */
    return rc;
}

static tempo_status_t setup(app_t *app, tempo_error_t *err)
{
    tempo_loop_t *loop;
    /* NULL: this thread's default context, which is the one gtk_main runs. */
    tempo_status_t rc = tempo_glib_loop_new(NULL, &loop, err);
    if (rc != TEMPO_OK)
        return rc;
    if ((rc = tempo_scheduler_new(loop, NULL, NULL, &app->scheduler, err)) != TEMPO_OK) {
        tempo_loop_free(loop); /* not taken over: still ours */
        return rc;
    }
    if ((rc = add_tick(app, err)) != TEMPO_OK)
        return rc;
    return tempo_scheduler_start(app->scheduler, err);
}

static void watch_the_clock(app_t *app, int seconds)
{
    if (seconds > 0)
        app->run_for = g_timeout_add((guint)seconds * 1000u, time_is_up, app);
    app->sigint = g_unix_signal_add(SIGINT, got_sigint, app);
    app->sigterm = g_unix_signal_add(SIGTERM, got_sigterm, app);
}

/* ---- arguments ---- */

static int usage(FILE *to, int code)
{
    fprintf(to, "usage: %s [--seconds N]   (quit after N seconds, 1-86400; default: when the window is closed)\n",
            PROG);
    return code;
}

/* Returns -1 to go on, or the exit code. *seconds is 0 without --seconds. */
static int parse_args(int argc, char **argv, int *seconds)
{
    *seconds = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return usage(stdout, 0);
        if (strcmp(argv[i], "--seconds") != 0) {
            fprintf(stderr, "%s: unknown argument '%s'\n", PROG, argv[i]);
            return usage(stderr, 2);
        }
        if (++i == argc) {
            fprintf(stderr, "%s: --seconds needs a value\n", PROG);
            return usage(stderr, 2);
        }
        char *end;
        long v = strtol(argv[i], &end, 10);
        if (end == argv[i] || *end || v < 1 || v > 86400) {
            fprintf(stderr, "%s: --seconds '%s' is not a whole number of seconds from 1 to 86400\n", PROG, argv[i]);
            return usage(stderr, 2);
        }
        *seconds = (int)v;
    }
    return -1;
}

int main(int argc, char **argv)
{
    int seconds;
    int code = parse_args(argc, argv, &seconds);
    if (code >= 0)
        return code;
    setvbuf(stdout, NULL, _IOLBF, 0); /* one line at a time, also into a pipe */
    /* Our own arguments are parsed above; GTK gets none (DISPLAY and GTK's
     * environment variables still apply). */
    if (!gtk_init_check(NULL, NULL)) {
        fprintf(stderr, "%s: cannot open a display (is DISPLAY set?)\n", PROG);
        return 1;
    }

    app_t app;
    memset(&app, 0, sizeof app);
    tempo_error_t err = {0};
    if (tempo_zone_get("local", &app.zone, &err) != TEMPO_OK) {
        fprintf(stderr, "%s: %s; showing UTC times\n", PROG, err.message);
        app.zone = tempo_zone_utc();
    }
    build_window(&app);
    if (setup(&app, &err) != TEMPO_OK) {
        fprintf(stderr, "%s: %s\n", PROG, err.message[0] ? err.message : tempo_strerror(err.code));
        tempo_scheduler_free(app.scheduler); /* NULL is fine */
        gtk_widget_destroy(app.window);
        return 1;
    }
    printf("scheduler '%s' running on GLib's default context with GTK %u.%u\n",
           tempo_scheduler_identity(app.scheduler), gtk_get_major_version(), gtk_get_minor_version());
    gtk_widget_show_all(app.window);
    watch_the_clock(&app, seconds);
    gtk_main();

    /* Stopped (on_stopped left gtk_main): free the scheduler, which removes
     * its source from the context, then the window if it is still there. */
    tempo_scheduler_free(app.scheduler);
    if (app.window)
        gtk_widget_destroy(app.window);
    return app.exit_code;
}
