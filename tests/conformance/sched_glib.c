/* The scheduler on GLib (sched_loops.h): a private GMainContext per case
 * (not the global default one, so cases share nothing), a guard timeout
 * source bounding each iteration, timeout sources on the same context for
 * the cases' host timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include <tempo/glib.h>

#include "sched_loops.h"

typedef struct later {
    void (*fn)(void *);
    void *arg;
} later_t;

static void *host_new(void)
{
    return g_main_context_new();
}

/* Sources not yet fired go with the context (their notify frees them). */
static void host_free(void *host)
{
    g_main_context_unref(host);
}

static tempo_status_t loop_new(void *host, tempo_loop_t **out, tempo_error_t *err)
{
    return tempo_glib_loop_new(host, out, err);
}

static gboolean guard_cb(gpointer arg)
{
    (void)arg;
    return G_SOURCE_REMOVE;
}

static void run_once(void *host, int max_ms)
{
    GSource *guard = g_timeout_source_new((guint)max_ms);
    g_source_set_callback(guard, guard_cb, NULL, NULL);
    g_source_attach(guard, host);
    g_main_context_iteration(host, TRUE);
    g_source_destroy(guard);
    g_source_unref(guard);
}

static gboolean later_cb(gpointer arg)
{
    later_t *l = arg;
    l->fn(l->arg);
    return G_SOURCE_REMOVE;
}

static void call_later(void *host, int ms, void (*fn)(void *), void *arg)
{
    later_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    l->fn = fn;
    l->arg = arg;
    GSource *src = g_timeout_source_new((guint)ms);
    g_source_set_callback(src, later_cb, l, free);
    g_source_attach(src, host);
    g_source_unref(src);
}

int main(void)
{
    static const sched_driver_t driver = {
        .name = "scheduler on GLib",
        .host_new = host_new,
        .host_free = host_free,
        .loop_new = loop_new,
        .run_once = run_once,
        .call_later = call_later,
    };
    return sched_loops_tests(&driver) ? 1 : 0;
}
