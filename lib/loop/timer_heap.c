/* Core timers: a binary min-heap of (deadline, start sequence) behind the
 * adapter's single timer.
 *
 * A timer is in one of three states, told by heap_index:
 *   TEMPO__NOT_ARMED               not armed;
 *   i (no READY_BIT)               in the heap: loop->heap[i].timer == t;
 *   TEMPO__READY_BIT | i           due, in this round's batch: loop->ready[i] == t.
 * Every move of a heap slot goes through place(), which keeps the
 * back-pointer right.
 *
 * Why a batch: the timer phase first takes every due timer out of the heap
 * (in deadline, start order), then runs them. A callback that starts a timer
 * puts it in the heap, so it cannot fire in this phase (no starvation by a
 * timer re-arming itself at "now") and cannot delay the older due ones
 * either; a callback that stops a timer still in the batch clears its slot,
 * so it does not fire. */
#include <stdlib.h>

#include "loop_private.h"

static bool entry_before(const tempo__heap_entry_t *a, const tempo__heap_entry_t *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->seq < b->seq);
}

static void place(tempo_loop_t *loop, size_t i, tempo__heap_entry_t e)
{
    loop->heap[i] = e;
    e.timer->heap_index = i;
}

static void sift_up(tempo_loop_t *loop, size_t i, tempo__heap_entry_t e)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_before(&e, &loop->heap[parent]))
            break;
        place(loop, i, loop->heap[parent]);
        i = parent;
    }
    place(loop, i, e);
}

static void sift_down(tempo_loop_t *loop, size_t i, tempo__heap_entry_t e)
{
    size_t n = loop->heap_len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && entry_before(&loop->heap[child + 1], &loop->heap[child]))
            child++;
        if (!entry_before(&loop->heap[child], &e))
            break;
        place(loop, i, loop->heap[child]);
        i = child;
    }
    place(loop, i, e);
}

/* Put `e` at slot i (a hole, or the slot it already had) where it belongs. */
static void settle(tempo_loop_t *loop, size_t i, tempo__heap_entry_t e)
{
    if (i > 0 && entry_before(&e, &loop->heap[(i - 1) / 2]))
        sift_up(loop, i, e);
    else
        sift_down(loop, i, e);
}

static void remove_at(tempo_loop_t *loop, size_t i)
{
    loop->heap[i].timer->heap_index = TEMPO__NOT_ARMED;
    tempo__heap_entry_t last = loop->heap[--loop->heap_len];
    if (i < loop->heap_len)
        settle(loop, i, last);
}

static bool grow(tempo_loop_t *loop)
{
    if (loop->heap_len < loop->heap_cap)
        return true;
    size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *loop->heap)
        return false;
    tempo__heap_entry_t *heap = realloc(loop->heap, cap * sizeof *heap);
    if (!heap)
        return false;
    loop->heap = heap;
    loop->heap_cap = cap;
    return true;
}

/* Give memory back after a mass stop (a million schedules removed), with
 * hysteresis so a heap hovering around a boundary does not thrash. A failed
 * shrink is harmless: the old array stays. */
static void maybe_shrink(tempo_loop_t *loop)
{
    if (loop->heap_cap <= 1024 || loop->heap_len > loop->heap_cap / 4)
        return;
    size_t cap = loop->heap_cap / 2;
    tempo__heap_entry_t *heap = realloc(loop->heap, cap * sizeof *heap);
    if (heap) {
        loop->heap = heap;
        loop->heap_cap = cap;
    }
}

void tempo__timer_init(tempo__timer_t *timer, tempo__loop_fn fn, void *arg)
{
    timer->deadline = TEMPO_TIME_NONE;
    timer->heap_index = TEMPO__NOT_ARMED;
    timer->fn = fn;
    timer->arg = arg;
}

static bool in_batch(const tempo__timer_t *timer)
{
    return timer->heap_index != TEMPO__NOT_ARMED && (timer->heap_index & TEMPO__READY_BIT);
}

static void unbatch(tempo_loop_t *loop, tempo__timer_t *timer)
{
    loop->ready[timer->heap_index & ~TEMPO__READY_BIT] = NULL;
    loop->ready_live--;
    timer->heap_index = TEMPO__NOT_ARMED;
}

tempo_status_t tempo__timer_start(tempo_loop_t *loop, tempo__timer_t *timer, tempo_time_t deadline)
{
    if (deadline == TEMPO_TIME_NONE) {
        tempo__timer_stop(loop, timer);
        return TEMPO_OK;
    }
    tempo__heap_entry_t e = {deadline, loop->next_seq, timer};
    if (tempo__timer_armed(timer) && !in_batch(timer)) {
        settle(loop, timer->heap_index, e);
    } else {
        /* Grow first: on failure a batched timer stays batched, as it was. */
        if (!grow(loop))
            return TEMPO_ENOMEM;
        if (in_batch(timer))
            unbatch(loop, timer);
        sift_up(loop, loop->heap_len++, e);
    }
    loop->next_seq++;
    timer->deadline = deadline;
    if (loop->depth == 0)
        tempo__loop_arm_before(loop, deadline);
    return TEMPO_OK;
}

tempo_status_t tempo__timer_start_after(tempo_loop_t *loop, tempo__timer_t *timer,
                                        tempo_duration_t delay)
{
    tempo_time_t now = tempo_loop_now(loop);
    tempo_time_t deadline;
    if (__builtin_add_overflow(now, delay, &deadline))
        deadline = delay > 0 ? INT64_MAX : TEMPO_TIME_NONE + 1;
    return tempo__timer_start(loop, timer, deadline);
}

void tempo__timer_stop(tempo_loop_t *loop, tempo__timer_t *timer)
{
    if (!tempo__timer_armed(timer))
        return;
    if (in_batch(timer)) {
        unbatch(loop, timer);
        return; /* only inside a round: nothing to re-arm here */
    }
    remove_at(loop, timer->heap_index);
    maybe_shrink(loop);
    if (loop->depth == 0)
        tempo__loop_disarm_if_idle(loop);
}

tempo_time_t tempo__timers_earliest(const tempo_loop_t *loop)
{
    return loop->heap_len ? loop->heap[0].deadline : TEMPO_TIME_NONE;
}

size_t tempo__timers_count(const tempo_loop_t *loop)
{
    return loop->heap_len + loop->ready_live;
}

static bool grow_batch(tempo_loop_t *loop)
{
    if (loop->ready_len < loop->ready_cap)
        return true;
    size_t cap = loop->ready_cap ? loop->ready_cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *loop->ready)
        return false;
    tempo__timer_t **ready = realloc(loop->ready, cap * sizeof *ready);
    if (!ready)
        return false;
    loop->ready = ready;
    loop->ready_cap = cap;
    return true;
}

/* Move the due timers from the heap into the batch. Out of memory, the rest
 * stays in the heap for the next round (which the re-arm asks for at once,
 * since they are due). */
static void take_due(tempo_loop_t *loop, tempo_time_t now)
{
    while (loop->heap_len > 0 && loop->heap[0].deadline <= now && grow_batch(loop)) {
        tempo__timer_t *timer = loop->heap[0].timer;
        remove_at(loop, 0);
        timer->heap_index = TEMPO__READY_BIT | loop->ready_len;
        loop->ready[loop->ready_len++] = timer;
        loop->ready_live++;
    }
}

/* The timer phase of a round (see loop_internal.h). A nested round (a
 * callback that made the host loop dispatch again) leaves the batch to the
 * phase that owns it. */
void tempo__timers_fire_due(tempo_loop_t *loop)
{
    if (loop->heap_len == 0 || loop->ready_active)
        return;
    take_due(loop, loop->ops->now(loop->adapter));
    loop->ready_active = true;
    for (size_t i = 0; i < loop->ready_len && !loop->closing; i++) {
        tempo__timer_t *timer = loop->ready[i];
        if (!timer)
            continue; /* stopped or restarted by an earlier callback */
        unbatch(loop, timer);
        loop->stats.timers_fired++;
        timer->fn(timer->arg);
    }
    loop->ready_len = 0;
    loop->ready_active = false;
    maybe_shrink(loop);
    /* A one-off burst (a million timers due at once) should not pin its
     * batch array for the life of the loop. */
    if (loop->ready_cap > 4096) {
        free(loop->ready);
        loop->ready = NULL;
        loop->ready_cap = 0;
    }
}

void tempo__timers_drop_all(tempo_loop_t *loop)
{
    for (size_t i = 0; i < loop->heap_len; i++)
        loop->heap[i].timer->heap_index = TEMPO__NOT_ARMED;
    loop->heap_len = 0;
    for (size_t i = 0; i < loop->ready_len; i++)
        if (loop->ready[i])
            loop->ready[i]->heap_index = TEMPO__NOT_ARMED;
    loop->ready_len = 0;
    loop->ready_live = 0;
}
