/* Help texts. Kept to 80 columns; docs/cli.md is the long form. */
#include "cli.h"

const char tempo__cli_usage_main[] =
    "Usage: tempo COMMAND [OPTIONS] ...\n"
    "\n"
    "Run commands on schedules (a cron replacement), and show when a schedule\n"
    "fires, computed by the tempo library.\n"
    "\n"
    "Commands:\n"
    "  run FILE         run the schedules of FILE until stopped (docs/run-file.md)\n"
    "  ls               list the schedules of a store\n"
    "  show NAME        show a schedule, its next fire times and last results\n"
    "  add NAME TRIGGER COMMAND\n"
    "                   add a schedule that tempo run daemons run\n"
    "  pause NAME       pause a schedule; resume NAME resumes it\n"
    "  rm NAME          remove a schedule\n"
    "  run-now NAME     queue a run of a schedule now\n"
    "  results [NAME]   the latest results, of one schedule or all\n"
    "  next             print the next fire times of an expression\n"
    "  explain          describe an expression in plain English\n"
    "  help [COMMAND]   show this help, or a command's\n"
    "\n"
    "Options:\n"
    "  -h, --help       show this help and exit\n"
    "      --version    show the version and exit\n"
    "\n"
    "Run 'tempo COMMAND --help' for the options of a command.\n";

/* The parts next and explain share. */
#define USAGE_EXPRESSION                                                            \
    "EXPRESSION is a crontab line of 5 fields (minute hour day month day_of_week),\n" \
    "6 fields (second first), 7 fields (second first, year last), or a macro:\n"     \
    "@yearly, @monthly, @weekly, @daily, @hourly. Give it as one argument, or\n"     \
    "one argument per field. --fields takes the named-field form instead:\n"         \
    "\"hour=9 minute=30 day_of_week=mon-fri\" (day_of_week 0 = Monday).\n"

#define USAGE_COMMON_OPTIONS                                                         \
    "      --tz ZONE          the schedule's time zone, also used for output: an\n"  \
    "                         IANA name, UTC, an offset (+05:30), or local (default)\n" \
    "      --after TIME       start strictly after this ISO 8601 time (default:\n"   \
    "                         now); without an offset it is a wall time in ZONE\n"   \
    "      --dst-gap POLICY   shift (default): a fixed-hour time inside a DST gap\n" \
    "                         fires once, when the gap ends; skip: it does not fire\n" \
    "      --fields FIELDS    the named-field form instead of EXPRESSION\n"          \
    "  -h, --help             show this help and exit\n"

#define USAGE_EXIT                                                                   \
    "Exit status: 0 success, 2 invalid usage or input (one line on stderr),\n"       \
    "1 any other failure.\n"

const char tempo__cli_usage_next[] =
    "Usage: tempo next [OPTIONS] EXPRESSION\n"
    "       tempo next [OPTIONS] --fields FIELDS\n"
    "\n"
    "Print the next fire times, one per line, as ISO 8601 with seconds and a\n"
    "numeric offset in ZONE (2027-03-29T09:30:00+02:00). A schedule that ends\n"
    "or never fires prints fewer lines, or none.\n"
    "\n" USAGE_EXPRESSION
    "\n"
    "Options:\n"
    "  -n, --count COUNT      how many fire times (1-10000, default 5)\n"
    USAGE_COMMON_OPTIONS
    "\n"
    "Example: tempo next --tz Europe/Berlin -n 3 \"30 9 * * mon-fri\"\n"
    "\n" USAGE_EXIT;

const char tempo__cli_usage_explain[] =
    "Usage: tempo explain [OPTIONS] EXPRESSION\n"
    "       tempo explain [OPTIONS] --fields FIELDS\n"
    "\n"
    "Describe the schedule in plain English with its zone, show the normalized\n"
    "expression, and the next three fire times:\n"
    "\n"
    "  at 09:30 on Monday through Friday (Europe/Berlin)\n"
    "  normalized: 30 9 * * 1-5\n"
    "  next: 2027-03-29T09:30:00+02:00\n"
    "  ...\n"
    "\n"
    "\"next: never fires\" marks a schedule with no fire time (\"0 0 30 2 *\"),\n"
    "\"next: no more\" the end of one whose years run out.\n"
    "\n" USAGE_EXPRESSION
    "\n"
    "Options:\n"
    USAGE_COMMON_OPTIONS
    "\n"
    "Example: tempo explain --tz Europe/Berlin \"30 9 * * mon-fri\"\n"
    "\n" USAGE_EXIT;

const char tempo__cli_usage_run[] =
    "Usage: tempo run [--store URI] [--identity NAME] [--check] FILE\n"
    "\n"
    "Run the schedules of FILE (docs/run-file.md) until SIGTERM or SIGINT: each\n"
    "job runs its command with /bin/sh -c, and one line per start and end is\n"
    "logged on stdout. SIGHUP reads FILE again and applies what changed. A bad\n"
    "line in FILE is reported as FILE:LINE:COLUMN and nothing starts.\n"
    "\n"
    "Options:\n"
    "      --store URI      where schedules, jobs and results live: sqlite:PATH,\n"
    "                       mongodb://..., or memory: (default: an SQLite file in\n"
    "                       $XDG_STATE_HOME/tempo, else ~/.local/state/tempo)\n"
    "      --identity NAME  this process's name in leases (default host-pid-random)\n"
    "      --lease SECONDS  how long this process holds a job without renewing it:\n"
    "                       a crashed process's jobs are reported abandoned (and\n"
    "                       retried, with retries) this long after (default 30)\n"
    "      --check          only read FILE, report errors, and exit\n"
    "  -h, --help           show this help and exit\n"
    "\n"
    "Several processes may run the same FILE on one store: each job runs once.\n";
