/* The checks every *_basic example passes (examples/ev_basic.c is the model:
 * same tasks, schedules, queued job and output; only the loop differs). */
#ifndef TEMPO_BASIC_CASES_H
#define TEMPO_BASIC_CASES_H

typedef struct basic_example {
    const char *path;    /* the built binary */
    const char *name;    /* its program name, as in its usage line */
    const char *running; /* how it announces its loop: "running on libuv" */
} basic_example_t;

/* Set before the cases run. */
extern basic_example_t basic_example;

/* --seconds 3: each kind of job finishes, the stop is graceful, the summary
 * agrees with the lines. */
void basic_runs_schedules_and_stops(void **state);
/* SIGINT once the queued job is announced: graceful stop, exit 0. */
void basic_sigint_stops_gracefully(void **state);
/* Bad arguments: exit 2, usage on stderr, nothing on stdout; --help. */
void basic_bad_arguments(void **state);

#endif
