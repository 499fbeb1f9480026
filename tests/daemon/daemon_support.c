#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_support.h"
#include "mongoc_shm.h"
#include "mongo_uri.h"

char ds_tempo_bin[1024], ds_dir[256], ds_store[600], ds_mongo_base[512];
static char dir_prefix[64] = "tempo-daemon";

void ds_init(const char *prefix)
{
    const char *bin = getenv("TEMPO_BINARY_DIR");
    snprintf(ds_tempo_bin, sizeof ds_tempo_bin, "%s/bin/tempo", bin ? bin : ".");
    snprintf(dir_prefix, sizeof dir_prefix, "%s", prefix);
}

int ds_setup(void **state)
{
    (void)state;
    snprintf(ds_dir, sizeof ds_dir, "/tmp/%s-XXXXXX", dir_prefix);
    assert_non_null(mkdtemp(ds_dir));
    snprintf(ds_store, sizeof ds_store, "sqlite:%s/store.db", ds_dir);
    if (ds_mongo_base[0]) {
        static int cases;
        char db[64];
        snprintf(db, sizeof db, "tempo_daemon_%ld_%d", (long)getpid(), ++cases);
        tempo_test_mongo_db_uri(ds_store, sizeof ds_store, ds_mongo_base, db);
    }
    return 0;
}

int ds_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", ds_dir);
    return system(cmd) == 0 ? 0 : -1;
}

void ds_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int64_t ds_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ds_path_of(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", ds_dir, name);
}

void ds_write_file(const char *name, const char *text)
{
    char p[512];
    ds_path_of(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

void ds_read_file(const char *name, char *buf, size_t size)
{
    char p[512];
    ds_path_of(p, sizeof p, name);
    buf[0] = '\0';
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

int ds_lines_of(const char *name)
{
    char p[512];
    ds_path_of(p, sizeof p, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int ds_count_in(const char *name, const char *needle)
{
    char p[512];
    ds_path_of(p, sizeof p, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

bool ds_wait_lines(const char *name, int at_least, int timeout_ms)
{
    for (int64_t end = ds_now_ms() + timeout_ms; ds_now_ms() < end; ds_sleep_ms(50))
        if (ds_lines_of(name) >= at_least)
            return true;
    return ds_lines_of(name) >= at_least;
}

bool ds_wait_text(const char *name, const char *needle, int at_least, int timeout_ms)
{
    for (int64_t end = ds_now_ms() + timeout_ms; ds_now_ms() < end; ds_sleep_ms(50))
        if (ds_count_in(name, needle) >= at_least)
            return true;
    return ds_count_in(name, needle) >= at_least;
}

pid_t ds_start(const char *file, const char *log, const char *identity)
{
    char f[512], l[512];
    ds_path_of(f, sizeof f, file);
    ds_path_of(l, sizeof l, log);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child only execs: exit codes 126/127 say which step failed. */
        int fd = open(l, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execl(ds_tempo_bin, "tempo", "run", "--store", ds_store, "--identity", identity, "--lease",
              ds_mongo_base[0] ? "30" : "3", f, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int ds_stop(pid_t pid, int sig)
{
    kill(pid, sig);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        tempo_test_forget_shm(pid);
    return status;
}
