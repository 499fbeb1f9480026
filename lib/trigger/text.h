/* A bounded string builder for describe() functions and cron's normaliser.
 *
 * describe() follows snprintf: it writes at most `size` bytes (always
 * NUL-terminated when size > 0) and returns the length the whole text needs.
 * Composite descriptions (and/or, which embed their children's) must keep
 * counting after the buffer is full, so every append here adds its full length
 * to `len` and writes only what fits. A NULL buf only counts, whatever `size`
 * says, so the public snprintf-style calls are safe with (NULL, n) too. */
#ifndef TEMPO_TRIGGER_TEXT_H
#define TEMPO_TRIGGER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <tempo/trigger.h>

typedef struct tempo__text {
    char *buf;
    size_t size;
    size_t len; /* length needed so far; may exceed size */
} tempo__text_t;

void tempo__text_init(tempo__text_t *t, char *buf, size_t size);
void tempo__text_printf(tempo__text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A plain string. */
void tempo__text_put(tempo__text_t *t, const char *s);
/* ISO 8601 in `zone` ("2027-01-01T00:00:00+00:00"). */
void tempo__text_time(tempo__text_t *t, tempo_time_t at, const tempo_zone_t *zone);
/* "15 minutes", "90 seconds", "1500 milliseconds": the largest unit that
 * divides `d` (> 0) exactly. A count of 1 is written only when `count_one`
 * ("within 1 second"; without: "every day"). */
void tempo__text_duration(tempo__text_t *t, tempo_duration_t d, bool count_one);
/* Another trigger's description, in place. */
void tempo__text_trigger(tempo__text_t *t, const tempo_trigger_t *trigger);
/* The snprintf-style result (clamped to INT_MAX). */
int tempo__text_result(const tempo__text_t *t);

#endif
