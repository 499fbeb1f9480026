/* The indexed 4-ary min-heap (heap.h). Node i's children are
 * ARITY*i+1 .. ARITY*i+ARITY; its parent is (i-1)/ARITY. */
#include "heap.h"

#include <stdlib.h>

#define MIN_CAP 16
#define ARITY 4

void tempo__heap_init(tempo__heap_t *h, tempo__heap_tie_fn tie, tempo__heap_moved_fn moved)
{
    h->nodes = NULL;
    h->count = 0;
    h->cap = 0;
    h->tie = tie;
    h->moved = moved;
}

void tempo__heap_destroy(tempo__heap_t *h)
{
    free(h->nodes);
    tempo__heap_init(h, h->tie, h->moved);
}

bool tempo__heap_reserve(tempo__heap_t *h, size_t count)
{
    if (count <= h->cap)
        return true;
    if (count > SIZE_MAX / 2 / sizeof(tempo__heap_node_t))
        return false;
    size_t cap = h->cap ? h->cap : MIN_CAP;
    while (cap < count)
        cap *= 2;
    tempo__heap_node_t *nodes = realloc(h->nodes, cap * sizeof *nodes);
    if (!nodes)
        return false;
    h->nodes = nodes;
    h->cap = cap;
    return true;
}

static bool less(const tempo__heap_t *h, const tempo__heap_node_t *a, const tempo__heap_node_t *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    return h->tie && h->tie(a->item, b->item) < 0;
}

static void set(tempo__heap_t *h, size_t i, tempo__heap_node_t node)
{
    h->nodes[i] = node;
    h->moved(node.item, i);
}

/* Move the node at i up to its place; returns where it ended. */
static size_t sift_up(tempo__heap_t *h, size_t i)
{
    tempo__heap_node_t node = h->nodes[i];
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!less(h, &node, &h->nodes[parent]))
            break;
        set(h, i, h->nodes[parent]);
        i = parent;
    }
    set(h, i, node);
    return i;
}

static void sift_down(tempo__heap_t *h, size_t i)
{
    tempo__heap_node_t node = h->nodes[i];
    for (;;) {
        size_t first = ARITY * i + 1, child = first;
        if (first >= h->count)
            break;
        size_t end = first + ARITY < h->count ? first + ARITY : h->count;
        for (size_t c = first + 1; c < end; c++)
            if (less(h, &h->nodes[c], &h->nodes[child]))
                child = c;
        if (!less(h, &h->nodes[child], &node))
            break;
        set(h, i, h->nodes[child]);
        i = child;
    }
    set(h, i, node);
}

void tempo__heap_push(tempo__heap_t *h, int64_t key, void *item)
{
    size_t i = h->count++;
    h->nodes[i] = (tempo__heap_node_t){key, item};
    sift_up(h, i);
}

/* The last node fills the hole; it may belong above or below it. */
void *tempo__heap_remove(tempo__heap_t *h, size_t index)
{
    void *item = h->nodes[index].item;
    size_t last = --h->count;
    if (index != last) {
        h->nodes[index] = h->nodes[last];
        if (sift_up(h, index) == index)
            sift_down(h, index);
    }
    return item;
}

void tempo__heap_update(tempo__heap_t *h, size_t index, int64_t key)
{
    h->nodes[index].key = key;
    if (sift_up(h, index) == index)
        sift_down(h, index);
}
