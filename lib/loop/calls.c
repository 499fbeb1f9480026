/* Deferred calls (loop thread) and posted calls (any thread): intrusive FIFO
 * lists of tempo__call_t.
 *
 * A phase first moves the whole queue to its "run" list, then runs that list
 * from the front, so calls queued by the calls being run land in the (now
 * empty) queue and wait for the next round: nothing runs inside the call
 * that queued it, and a call that re-queues itself cannot starve the loop.
 * A call is unlinked before it runs because it may free or re-queue its
 * node. The run lists live in the loop (not on the stack) so that
 * tempo__loop_cancel and tempo_loop_free can reach every call not yet run,
 * and so that a nested round simply continues the same list. */
#include "loop_private.h"

static void list_init(tempo__call_list_t *list)
{
    list->head = NULL;
    list->tail = &list->head;
}

static void list_push(tempo__call_list_t *list, tempo__call_t *call)
{
    call->next = NULL;
    *list->tail = call;
    list->tail = &call->next;
}

static tempo__call_t *list_pop(tempo__call_list_t *list)
{
    tempo__call_t *call = list->head;
    if (call) {
        list->head = call->next;
        if (!list->head)
            list->tail = &list->head;
        call->next = NULL;
    }
    return call;
}

/* Append all of `from` to `to`; `from` ends empty. */
static void list_splice(tempo__call_list_t *to, tempo__call_list_t *from)
{
    if (!from->head)
        return;
    *to->tail = from->head;
    to->tail = from->tail;
    list_init(from);
}

/* O(length): cancelling is rare (shutdown), queues are short. */
static bool list_remove(tempo__call_list_t *list, tempo__call_t *call)
{
    tempo__call_t **pp = &list->head;
    while (*pp && *pp != call)
        pp = &(*pp)->next;
    if (!*pp)
        return false;
    *pp = call->next;
    if (list->tail == &call->next)
        list->tail = pp;
    call->next = NULL;
    return true;
}

int tempo__calls_init(tempo_loop_t *loop)
{
    int rc = pthread_mutex_init(&loop->post_mu, NULL);
    if (rc != 0)
        return rc;
    list_init(&loop->defer);
    list_init(&loop->defer_run);
    list_init(&loop->post);
    list_init(&loop->post_run);
    loop->deferred = 0;
    loop->posted = 0;
    loop->posts_running = 0;
    loop->post_closed = false;
    atomic_init(&loop->post_flag, false);
    return 0;
}

void tempo__calls_destroy(tempo_loop_t *loop)
{
    pthread_mutex_destroy(&loop->post_mu);
}

void tempo__loop_defer(tempo_loop_t *loop, tempo__call_t *call, tempo__loop_fn fn, void *arg)
{
    call->fn = fn;
    call->arg = arg;
    list_push(&loop->defer, call);
    loop->deferred++;
    if (loop->depth == 0 && !loop->closing)
        tempo__loop_arm_before(loop, TEMPO__ARMED_ASAP);
}

/* wake() is called with the mutex held: tempo_loop_free takes the same mutex
 * before it detaches, so a poster is never inside the adapter while the
 * adapter is being torn down, and never touches the loop after unlocking.
 * Only the post that makes the queue non-empty wakes: the loop drains the
 * whole queue on the wake-up it brings. */
void tempo__loop_post(tempo_loop_t *loop, tempo__call_t *call, tempo__loop_fn fn, void *arg)
{
    call->fn = fn;
    call->arg = arg;
    pthread_mutex_lock(&loop->post_mu);
    if (!loop->post_closed) {
        bool was_empty = loop->post.head == NULL;
        list_push(&loop->post, call);
        loop->posted++;
        if (was_empty) {
            atomic_store_explicit(&loop->post_flag, true, memory_order_release);
            loop->ops->wake(loop->adapter);
        }
    }
    pthread_mutex_unlock(&loop->post_mu);
}

bool tempo__loop_cancel(tempo_loop_t *loop, tempo__call_t *call)
{
    if (list_remove(&loop->defer, call) || list_remove(&loop->defer_run, call)) {
        loop->deferred--;
        return true;
    }
    if (list_remove(&loop->post_run, call)) {
        loop->posts_running--;
        return true;
    }
    pthread_mutex_lock(&loop->post_mu);
    bool found = list_remove(&loop->post, call);
    if (found) {
        loop->posted--;
        if (!loop->post.head)
            atomic_store_explicit(&loop->post_flag, false, memory_order_relaxed);
    }
    pthread_mutex_unlock(&loop->post_mu);
    return found;
}

/* `force` (on_wake) always looks under the mutex; other entries first check
 * the flag, which is only an optimisation: if they miss a post, the wake-up
 * that post sent brings an on_wake that will not. */
void tempo__calls_run_posted(tempo_loop_t *loop, bool force)
{
    if (force || atomic_load_explicit(&loop->post_flag, memory_order_acquire)) {
        pthread_mutex_lock(&loop->post_mu);
        list_splice(&loop->post_run, &loop->post);
        loop->posts_running += loop->posted;
        loop->posted = 0;
        atomic_store_explicit(&loop->post_flag, false, memory_order_relaxed);
        pthread_mutex_unlock(&loop->post_mu);
    }
    tempo__call_t *call;
    while (!loop->closing && (call = list_pop(&loop->post_run))) {
        loop->posts_running--;
        loop->stats.calls_run++;
        call->fn(call->arg);
    }
}

void tempo__calls_run_deferred(tempo_loop_t *loop)
{
    list_splice(&loop->defer_run, &loop->defer);
    tempo__call_t *call;
    while (!loop->closing && (call = list_pop(&loop->defer_run))) {
        loop->deferred--;
        loop->stats.calls_run++;
        call->fn(call->arg);
    }
}

/* Drop without running (tempo_loop_free). After this, posts are ignored. */
void tempo__calls_drop_all(tempo_loop_t *loop)
{
    list_init(&loop->defer);
    list_init(&loop->defer_run);
    list_init(&loop->post_run);
    loop->deferred = 0;
    loop->posts_running = 0;
    pthread_mutex_lock(&loop->post_mu);
    list_init(&loop->post);
    loop->posted = 0;
    loop->post_closed = true;
    atomic_store_explicit(&loop->post_flag, false, memory_order_relaxed);
    pthread_mutex_unlock(&loop->post_mu);
}
