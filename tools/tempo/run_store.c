/* The default store of `tempo run`: an SQLite file in the user's state
 * directory ($XDG_STATE_HOME, else ~/.local/state), as the XDG base
 * directory spec puts state that should survive restarts but is not
 * configuration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "run.h"

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

char *tempo__run_default_store(void)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096];
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(dir, sizeof dir, "%s/tempo", xdg);
    else if (home && home[0] == '/')
        n = snprintf(dir, sizeof dir, "%s/.local/state/tempo", home);
    else {
        tempo__cli_usage_error("no state directory (neither XDG_STATE_HOME nor HOME is set): give --store");
        return NULL;
    }
    if (n < 0 || (size_t)n >= sizeof dir - 16) {
        tempo__cli_usage_error("state directory path too long: give --store");
        return NULL;
    }
    if (mkdir_p(dir) != 0) {
        tempo__cli_failure("cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    size_t len = strlen(dir) + 32;
    char *uri = malloc(len);
    if (!uri) {
        tempo__cli_failure("out of memory");
        return NULL;
    }
    snprintf(uri, len, "sqlite:%s/tempo.db", dir);
    return uri;
}
