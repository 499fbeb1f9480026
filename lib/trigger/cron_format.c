/* The normalised text of a field and of a whole expression.
 *
 * Normalising must never change what an expression means, and that is more
 * than its value sets: a lone '*' or '?' in the day and weekday fields decides
 * whether they are ORed (crontab forms), and a '*' or step in the hour field
 * selects the DST policy. So a field becomes '*' only if it was a lone '*' or
 * '?' already, or if it is the second, minute, month or year field and allows
 * every value; hour steps are printed as steps; everything else is printed as
 * sorted, merged values. Reparsing the result gives the same spec. */
#include "cron_parse_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const ordinals[6] = {"", "1st", "2nd", "3rd", "4th", "5th"};

/* A weekday (0 = Sunday) in the numbering of the form. */
static int form_weekday(bool named, int sunday_based)
{
    return named ? (sunday_based + 6) % 7 : sunday_based;
}

static void put_sep(tempo__text_t *o, bool *first)
{
    if (!*first)
        tempo__text_put(o, ",");
    *first = false;
}

static void put_special(tempo__text_t *o, tempo__cron_field_t f, bool named,
                        const tempo__cron_special_t *s)
{
    bool day = f == TEMPO__CRON_DAY;
    switch (s->kind) {
    case TEMPO__CRON_LAST_DAY:
        if (s->arg)
            tempo__text_printf(o, "L-%d", s->arg);
        else
            tempo__text_put(o, "L");
        break;
    case TEMPO__CRON_LAST_WEEKDAY: tempo__text_put(o, "LW"); break;
    case TEMPO__CRON_NEAREST_WEEKDAY: tempo__text_printf(o, "%dW", s->arg); break;
    case TEMPO__CRON_NTH_DOW:
        /* The day field's form has no numeric spelling: keep the name. */
        if (day)
            tempo__text_printf(o, "%s %s", ordinals[s->arg], tempo__cron_weekday_abbr(s->dow));
        else
            tempo__text_printf(o, "%d#%d", form_weekday(named, s->dow), s->arg);
        break;
    case TEMPO__CRON_LAST_DOW:
        if (day)
            tempo__text_printf(o, "last %s", tempo__cron_weekday_abbr(s->dow));
        else
            tempo__text_printf(o, "%dL", form_weekday(named, s->dow));
        break;
    }
}

static void put_run(tempo__text_t *o, int a, int b, bool *first)
{
    put_sep(o, first);
    if (b - a >= 2) {
        tempo__text_printf(o, "%d-%d", a, b);
        return;
    }
    tempo__text_printf(o, "%d", a);
    if (b > a) {
        put_sep(o, first);
        tempo__text_printf(o, "%d", b);
    }
}

static void put_step(tempo__text_t *o, const tempo__cron_field_def_t *d,
                     const tempo__cron_step_t *s)
{
    int last = s->a + (s->b - s->a) / s->step * s->step;
    if (s->a == d->lo && last + s->step > d->star_hi)
        tempo__text_printf(o, "*/%d", s->step);
    else
        tempo__text_printf(o, "%d-%d/%d", s->a, s->b, s->step);
}

static int step_cmp(const void *pa, const void *pb)
{
    const tempo__cron_step_t *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a - b->a;
    if (a->b != b->b)
        return a->b - b->b;
    return a->step - b->step;
}

/* The values lo + i of `set` (i < n) and the steps, sorted by where they
 * start: runs of three or more values as ranges, shorter ones one by one. */
static void put_set(tempo__text_t *o, const uint64_t *set, int n,
                    const tempo__cron_field_def_t *d, const tempo__cron_step_t *steps,
                    int n_steps, bool *first)
{
    int k = 0, lo = d->lo;
    for (int i = 0; i < n; i++) {
        for (; k < n_steps && steps[k].a - lo == i; k++) {
            put_sep(o, first);
            put_step(o, d, &steps[k]);
        }
        if (tempo__cron_bit(set, i) && (i == 0 || !tempo__cron_bit(set, i - 1))) {
            int j = i;
            while (j + 1 < n && tempo__cron_bit(set, j + 1))
                j++;
            put_run(o, lo + i, lo + j, first);
        }
    }
}

static bool is_full(const uint64_t *set, int n)
{
    for (int i = 0; i < n; i++)
        if (!tempo__cron_bit(set, i))
            return false;
    return true;
}

/* Weekdays are printed from the value set alone (weekday steps were folded). */
static void put_weekdays(tempo__text_t *o, bool named, const tempo__cron_parsed_t *p,
                         bool *first)
{
    uint64_t set = p->all[0];
    if (!named && (set & 0x80))
        set = (set & 0x7f) | 1; /* 7 is Sunday again */
    put_set(o, &set, 7, tempo__cron_field_def(TEMPO__CRON_DOW, named), NULL, 0, first);
}

/* Plain values minus what the steps already cover, merged with the steps. */
static void put_values(tempo__text_t *o, const tempo__cron_field_def_t *d,
                       const tempo__cron_parsed_t *p, bool *first)
{
    uint64_t rest[TEMPO__CRON_YEAR_WORDS];
    tempo__cron_step_t steps[TEMPO__CRON_MAX_STEPS];
    memcpy(rest, p->plain, sizeof rest);
    memcpy(steps, p->steps, sizeof steps);
    qsort(steps, p->n_steps, sizeof steps[0], step_cmp);
    for (int k = 0; k < p->n_steps; k++)
        for (int v = steps[k].a; v <= steps[k].b; v += steps[k].step)
            rest[(v - d->lo) / 64] &= ~((uint64_t)1 << ((v - d->lo) % 64));
    put_set(o, rest, d->hi - d->lo + 1, d, steps, p->n_steps, first);
}

static void format_field(tempo__text_t *o, tempo__cron_field_t f, bool named,
                         const tempo__cron_parsed_t *p)
{
    const tempo__cron_field_def_t *d = tempo__cron_field_def(f, named);
    bool first = true;
    bool may_star = f == TEMPO__CRON_SECOND || f == TEMPO__CRON_MINUTE ||
                    f == TEMPO__CRON_MONTH || f == TEMPO__CRON_YEAR;
    if (p->star || (may_star && p->n_specials == 0 && is_full(p->all, d->hi - d->lo + 1))) {
        tempo__text_put(o, "*");
        return;
    }
    if (f == TEMPO__CRON_DOW)
        put_weekdays(o, named, p, &first);
    else
        put_values(o, d, p, &first);
    for (int i = 0; i < p->n_specials; i++) {
        put_sep(o, &first);
        put_special(o, f, named, &p->specials[i]);
    }
}

char *tempo__cron_field_format(tempo__cron_field_t f, bool named, const tempo__cron_parsed_t *p)
{
    tempo__text_t o;
    tempo__text_init(&o, NULL, 0); /* first pass: measure */
    format_field(&o, f, named, p);
    size_t size = o.len + 1;
    char *s = malloc(size);
    if (!s)
        return NULL;
    tempo__text_init(&o, s, size);
    format_field(&o, f, named, p);
    return s;
}

/* Crontab columns per form, in the order they are written. */
static const tempo__cron_field_t cols5[] = {TEMPO__CRON_MINUTE, TEMPO__CRON_HOUR, TEMPO__CRON_DAY,
                                            TEMPO__CRON_MONTH, TEMPO__CRON_DOW};
static const tempo__cron_field_t cols7[] = {TEMPO__CRON_SECOND, TEMPO__CRON_MINUTE,
                                            TEMPO__CRON_HOUR,   TEMPO__CRON_DAY,
                                            TEMPO__CRON_MONTH,  TEMPO__CRON_DOW,
                                            TEMPO__CRON_YEAR};

int tempo__cron_normalize(const tempo__cron_text_t *text, char *buf, size_t size)
{
    tempo__text_t o;
    const tempo__cron_field_t *cols = cols7;
    size_t n = 0;
    tempo__text_init(&o, buf, size);
    if (!text)
        return -1;
    switch (text->form) {
    case TEMPO__CRON_FORM_5:
    case TEMPO__CRON_FORM_MACRO: cols = cols5, n = 5; break;
    case TEMPO__CRON_FORM_6: n = 6; break;
    case TEMPO__CRON_FORM_7: n = 7; break;
    case TEMPO__CRON_FORM_FIELDS:
        for (int f = 0; f < TEMPO__CRON_NFIELDS; f++) {
            if (!text->fields[f])
                continue;
            if (o.len)
                tempo__text_put(&o, " ");
            tempo__text_printf(&o, "%s=", tempo__cron_field_def((tempo__cron_field_t)f, true)->name);
            tempo__text_put(&o, text->fields[f]);
        }
        return tempo__text_result(&o);
    }
    for (size_t i = 0; i < n; i++) {
        if (!text->fields[cols[i]])
            return -1;
        if (i)
            tempo__text_put(&o, " ");
        tempo__text_put(&o, text->fields[cols[i]]);
    }
    return tempo__text_result(&o);
}
