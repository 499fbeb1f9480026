/* The two sides of the wake-up benchmark (loops_wake.h): producers, the
 * delivery callback, the window, and draining before teardown. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <tempo/scheduler.h>

#include "loops_wake.h"

#define WARMUP_US 200000

typedef struct producer producer_t;
typedef struct bench bench_t;

/* One call in flight: a slot of its producer's ring, reused once delivered. */
typedef struct wake_node {
    relay_node_t rn;
    producer_t *p;
    long long seq;
} wake_node_t;

struct producer {
    bench_t *b;
    pthread_t th;
    /* `sent` is written by the producer, `delivered` by the loop thread
     * only; both seq_cst, which with `waiting` makes the sleep below safe:
     * either the loop sees waiting == 1 or the producer sees the delivery. */
    atomic_llong sent, delivered;
    atomic_int waiting;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    wake_node_t *ring;
    long long out_of_order; /* loop thread */
    long long refused;      /* producer thread; read after join */
};

struct bench {
    const wake_cfg_t *cfg;
    const host_ops_t *ops;
    void *host;
    int (*post)(bench_t *b, wake_node_t *n);
    void *relay;          /* raw side */
    tempo_scheduler_t *s; /* tempo side */
    atomic_int stop;
    producer_t *p;
    wake_result_t *res;
    int64_t t0, cpu0, loop_cpu0;
    long long d0;
    int guards; /* drain's guard timers not yet fired */
};

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- delivery (loop thread) ------------------------------------------------ */

static void deliver(void *arg)
{
    wake_node_t *n = arg;
    producer_t *p = n->p;
    long long d = atomic_load_explicit(&p->delivered, memory_order_relaxed);
    if (n->seq != d)
        p->out_of_order++;
    atomic_store(&p->delivered, d + 1);
    if (atomic_load(&p->waiting) && atomic_load(&p->sent) - (d + 1) <= p->b->cfg->inflight / 2) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

static void tempo_delivered(tempo_scheduler_t *s, void *arg)
{
    if (s) /* NULL: freed before it ran — never here, the bench drains first */
        deliver(arg);
}

static int post_raw(bench_t *b, wake_node_t *n)
{
    b->ops->relay_post(b->relay, &n->rn);
    return 0;
}

static int post_tempo(bench_t *b, wake_node_t *n)
{
    return tempo_scheduler_call_threadsafe(b->s, tempo_delivered, n) == TEMPO_OK ? 0 : -1;
}

/* ---- producers ---------------------------------------------------------------- */

static void wait_for_room(producer_t *p, long long sent)
{
    long long half = p->b->cfg->inflight / 2;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->waiting, 1);
    while (!atomic_load(&p->b->stop) && sent - atomic_load(&p->delivered) > half)
        pthread_cond_wait(&p->cv, &p->mu);
    atomic_store(&p->waiting, 0);
    pthread_mutex_unlock(&p->mu);
}

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    bench_t *b = p->b;
    long long sent = 0, inflight = b->cfg->inflight;
    while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        if (sent - atomic_load(&p->delivered) >= inflight) {
            wait_for_room(p, sent);
            continue;
        }
        wake_node_t *n = &p->ring[sent % inflight];
        n->seq = sent;
        atomic_store(&p->sent, ++sent); /* before the post: delivery may be immediate */
        if (b->post(b, n) != 0) {
            atomic_store(&p->sent, --sent);
            p->refused++;
            break;
        }
    }
    return NULL;
}

static long long total_delivered(const bench_t *b)
{
    long long d = 0;
    for (int i = 0; i < b->cfg->threads; i++)
        d += atomic_load(&b->p[i].delivered);
    return d;
}

static long long total_sent(const bench_t *b)
{
    long long s = 0;
    for (int i = 0; i < b->cfg->threads; i++)
        s += atomic_load(&b->p[i].sent);
    return s;
}

/* ---- the window (loop thread) ----------------------------------------------------- */

static void window_start(void *arg)
{
    bench_t *b = arg;
    b->t0 = bench_realtime_us();
    b->cpu0 = bench_cpu_ns();
    b->loop_cpu0 = thread_cpu_ns();
    b->d0 = total_delivered(b);
}

static void window_end(void *arg)
{
    bench_t *b = arg;
    b->res->calls = total_delivered(b) - b->d0;
    b->res->loop_cpu_ns = thread_cpu_ns() - b->loop_cpu0;
    b->res->cpu_ns = bench_cpu_ns() - b->cpu0;
    b->res->window_us = bench_realtime_us() - b->t0;
    atomic_store(&b->stop, 1);
    for (int i = 0; i < b->cfg->threads; i++) {
        pthread_mutex_lock(&b->p[i].mu);
        pthread_cond_broadcast(&b->p[i].cv);
        pthread_mutex_unlock(&b->p[i].mu);
    }
    b->ops->quit(b->host);
}

static void guard_fired(void *arg)
{
    ((bench_t *)arg)->guards--;
}

/* After the producers are joined: run the loop until every call posted was
 * delivered (teardown must not drop any). A 2 ms guard timer keeps each
 * iteration from blocking on a loop that would otherwise have nothing
 * keeping it alive (libuv returns at once then, without polling). */
static void drain(bench_t *b)
{
    while (total_delivered(b) < total_sent(b) || b->guards > 0) {
        if (b->guards == 0) {
            b->guards++;
            b->ops->after(b->host, 2000, guard_fired, b);
        }
        b->ops->run_once(b->host, 0);
    }
}

/* ---- one side ------------------------------------------------------------------------ */

static int producers_new(bench_t *b)
{
    b->p = calloc((size_t)b->cfg->threads, sizeof *b->p);
    if (!b->p)
        return -1;
    for (int i = 0; i < b->cfg->threads; i++) {
        producer_t *p = &b->p[i];
        p->b = b;
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cv, NULL);
        p->ring = calloc((size_t)b->cfg->inflight, sizeof *p->ring);
        if (!p->ring)
            return -1;
        for (int k = 0; k < b->cfg->inflight; k++) {
            p->ring[k].p = p;
            p->ring[k].rn.arg = &p->ring[k];
        }
    }
    return 0;
}

static void producers_free(bench_t *b)
{
    for (int i = 0; b->p && i < b->cfg->threads; i++) {
        b->res->out_of_order += b->p[i].out_of_order;
        b->res->refused += b->p[i].refused;
        pthread_cond_destroy(&b->p[i].cv);
        pthread_mutex_destroy(&b->p[i].mu);
        free(b->p[i].ring);
    }
    free(b->p);
}

/* Producers, window, drain; the side's own setup and teardown around it. */
static int measure(bench_t *b)
{
    int started = 0, rc = 0;
    atomic_init(&b->stop, 0);
    if (producers_new(b) != 0) {
        fprintf(stderr, "bench_loops_wake: out of memory\n");
        rc = -1;
    }
    for (; rc == 0 && started < b->cfg->threads; started++)
        if (pthread_create(&b->p[started].th, NULL, producer_main, &b->p[started]) != 0) {
            fprintf(stderr, "bench_loops_wake: cannot start producer %d\n", started);
            atomic_store(&b->stop, 1);
            rc = -1;
            break;
        }
    if (rc == 0) {
        b->ops->after(b->host, WARMUP_US, window_start, b);
        b->ops->after(b->host, WARMUP_US + b->cfg->seconds * 1000000, window_end, b);
        b->ops->run(b->host);
    }
    for (int i = 0; i < started; i++)
        pthread_join(b->p[i].th, NULL);
    drain(b);
    producers_free(b);
    return rc;
}

int wake_run_raw(const host_ops_t *ops, const wake_cfg_t *cfg, wake_result_t *res)
{
    res->impl = ops->raw_wake;
    bench_t b = {.cfg = cfg, .ops = ops, .res = res, .post = post_raw};
    b.host = ops->create();
    if (!b.host || !(b.relay = ops->relay_new(b.host, deliver))) {
        fprintf(stderr, "bench_loops_wake: %s: cannot create the loop or the relay\n", ops->loop);
        if (b.host)
            ops->destroy(b.host);
        return -1;
    }
    int rc = measure(&b);
    ops->relay_free(b.relay);
    ops->destroy(b.host);
    return rc;
}

int wake_run_tempo(const host_ops_t *ops, const wake_cfg_t *cfg, wake_result_t *res)
{
    res->impl = "tempo";
    bench_t b = {.cfg = cfg, .ops = ops, .res = res, .post = post_tempo};
    tempo_error_t err = {0};
    tempo_loop_t *loop = NULL;
    tempo_scheduler_options_t so = TEMPO_SCHEDULER_OPTIONS_INIT;
    so.seed = 1;
    tempo_status_t st = TEMPO_ENOMEM;
    b.host = ops->create();
    if (b.host && (st = ops->adapter(b.host, &loop, &err)) == TEMPO_OK &&
        (st = tempo_scheduler_new(loop, NULL, &so, &b.s, &err)) != TEMPO_OK)
        tempo_loop_free(loop);
    if (st == TEMPO_OK)
        st = tempo_scheduler_start(b.s, &err);
    int rc = -1;
    if (st != TEMPO_OK)
        fprintf(stderr, "bench_loops_wake: tempo on %s: %s (%s)\n", ops->loop, err.message, tempo_strerror(st));
    else
        rc = measure(&b);
    tempo_scheduler_free(b.s);
    if (b.host)
        ops->destroy(b.host);
    return rc;
}
