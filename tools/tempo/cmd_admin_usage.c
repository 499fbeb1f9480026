/* Help texts of the administration commands (admin.h). Kept to 80 columns;
 * docs/cli.md ("Managing schedules") is the long form. */
#include "admin.h"

#define USAGE_COMMON                                                                    \
    "      --store URI    the store: sqlite:PATH, mongodb://..., memory: (default:\n"   \
    "                     tempo run's, an SQLite file in $XDG_STATE_HOME/tempo, else\n" \
    "                     ~/.local/state/tempo)\n"                                      \
    "      --json         one JSON document on stdout instead of text\n"                 \
    "  -h, --help         show this help and exit\n"

#define USAGE_EXIT                                                                  \
    "Exit status: 0 success; 2 invalid usage or input, or no schedule of that\n"    \
    "NAME (one line on stderr); 1 the store or the system failed.\n"

const char tempo__admin_usage_ls[] =
    "Usage: tempo ls [--store URI] [--json]\n"
    "\n"
    "List the schedules of the store, one per line: NAME, TRIGGER (as written,\n"
    "or the expression), NEXT fire time (local time), PAUSED, and LAST: how the\n"
    "latest run whose result is kept ended, and when.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_show[] =
    "Usage: tempo show [--store URI] [--json] NAME\n"
    "\n"
    "Show everything the store keeps about schedule NAME: its task, command,\n"
    "trigger, settings and lease; its next 5 fire times (from the stored next\n"
    "fire time on); and its last 5 results.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_add[] =
    "Usage: tempo add [OPTIONS] NAME TRIGGER COMMAND...\n"
    "\n"
    "Add a schedule to the store: the tempo run daemons on it run COMMAND with\n"
    "/bin/sh -c on TRIGGER, as a line of a schedule file would (results are kept\n"
    "7 days). TRIGGER is one argument, in any form a schedule file accepts\n"
    "(docs/run-file.md): \"30 2 * * *\", \"*/10 * * * * *\", @daily, \"every 15m\",\n"
    "\"daily at 09:30\", \"weekly on mon-fri at 08:00\", \"at 2027-01-01T00:00\", ...\n"
    "COMMAND is the rest of the line (several words are joined by spaces). NAME\n"
    "is 1 to 64 characters from A-Z a-z 0-9 _ . - and must not exist yet.\n"
    "\n"
    "Options (before COMMAND: from its first word on, everything is COMMAND):\n"
    "      --zone ZONE    the trigger's time zone (default: local)\n"
    "      --dst-gap shift|skip\n"
    "                     a wall time inside a DST gap fires at its end (default)\n"
    "                     or not at all\n"
    "      --coalesce latest|earliest|all\n"
    "                     missed fire times run once for the latest (default),\n"
    "                     once for the earliest, or once each\n"
    "      --misfire-grace DURATION|unlimited\n"
    "                     how late a run may still start (default: unlimited)\n"
    "      --jitter DURATION\n"
    "                     delay each run by up to this (default 0)\n" USAGE_COMMON
    "\n"
    "Example: tempo add backup \"30 2 * * *\" /usr/local/bin/backup --quick\n"
    "\n" USAGE_EXIT;

const char tempo__admin_usage_pause[] =
    "Usage: tempo pause [--store URI] [--json] NAME\n"
    "\n"
    "Pause schedule NAME: it keeps its next fire time but does not fire. Fire\n"
    "times that pass meanwhile are handled on resume like times missed while no\n"
    "process ran: per its coalesce policy and misfire grace time.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_resume[] =
    "Usage: tempo resume [--store URI] [--json] NAME\n"
    "\n"
    "Resume schedule NAME after tempo pause.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_rm[] =
    "Usage: tempo rm [--store URI] [--json] NAME\n"
    "\n"
    "Remove schedule NAME from the store (its kept results stay until they\n"
    "expire). A schedule that tempo run made from a file comes back when that\n"
    "daemon reloads or restarts: remove it from the file instead.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_run_now[] =
    "Usage: tempo run-now [--store URI] [--json] NAME\n"
    "\n"
    "Queue one run of schedule NAME now, with its command, besides its own fire\n"
    "times. A tempo run daemon on the store runs it (within its poll interval,\n"
    "2 s); its result is listed with the schedule's.\n"
    "\n"
    "Options:\n" USAGE_COMMON "\n" USAGE_EXIT;

const char tempo__admin_usage_results[] =
    "Usage: tempo results [--store URI] [--json] [-n COUNT] [NAME]\n"
    "\n"
    "The latest kept results, newest first, of schedule NAME or of every job:\n"
    "TIME (when it ended, local time), NAME, OUTCOME (ok, failed, missed,\n"
    "cancelled, abandoned), DURATION, and OUTPUT: the first line of its error,\n"
    "else of its output.\n"
    "\n"
    "Options:\n"
    "  -n, --count COUNT  how many (1-10000, default 20)\n" USAGE_COMMON "\n" USAGE_EXIT;
