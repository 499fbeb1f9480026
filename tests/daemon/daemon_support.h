/* Shared by the tests that drive the `tempo` binary as a user would
 * (tests/daemon): a fresh directory per case with the SQLite store in it,
 * files in that directory, bounded waits on them, and `tempo run` started
 * and stopped as a real process.
 *
 * Every wait is for a condition, bounded: it looks again every 50 ms until
 * the condition holds or the time is up, and says which. */
#ifndef TEMPO_TEST_DAEMON_SUPPORT_H
#define TEMPO_TEST_DAEMON_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

extern char ds_tempo_bin[1024]; /* the tempo binary of this build */
extern char ds_dir[256];        /* the case's directory */
extern char ds_store[600];      /* "sqlite:<ds_dir>/store.db"; a case may point it elsewhere */
/* When set (before the cases run), ds_setup points ds_store at a fresh
 * database on this MongoDB server instead, and daemons get 30 s leases: a
 * release slowed by the server must not let a lease lapse. */
extern char ds_mongo_base[512];

/* Before the tests run: find the binary (TEMPO_BINARY_DIR/bin/tempo) and
 * name the cases' directories /tmp/<prefix>-XXXXXX. */
void ds_init(const char *prefix);
/* cmocka fixtures: a fresh directory and ds_store in it; then remove it. */
int ds_setup(void **state);
int ds_teardown(void **state);

void ds_sleep_ms(int ms);
int64_t ds_now_ms(void); /* monotonic */

/* `name` in the case's directory. */
void ds_path_of(char *out, size_t size, const char *name);
void ds_write_file(const char *name, const char *text);
/* As much of the file as fits (NUL-terminated); "" when it is missing. */
void ds_read_file(const char *name, char *buf, size_t size);
/* Lines in a file (0 when missing). */
int ds_lines_of(const char *name);
/* How many lines of a file hold `needle` (0 when missing). */
int ds_count_in(const char *name, const char *needle);
/* Wait until the file has at least that many lines, or lines holding
 * `needle`; false when timeout_ms passed first. */
bool ds_wait_lines(const char *name, int at_least, int timeout_ms);
bool ds_wait_text(const char *name, const char *needle, int at_least, int timeout_ms);

/* Start `tempo run --store <ds_store> --identity ID --lease 3 FILE` (30
 * on MongoDB) with
 * its stdout and stderr appended to `log` (both names in the directory). */
pid_t ds_start(const char *file, const char *log, const char *identity);
/* Send `sig`, reap the process; its wait status. */
int ds_stop(pid_t pid, int sig);

#endif
