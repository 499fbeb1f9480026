/* Command-line options of the subcommands, parsed by hand.
 *
 * Why not getopt_long: it prints its own messages in its own format, permutes
 * argv behind our back, and would treat a cron word such as "-5" differently
 * depending on POSIXLY_CORRECT. The grammar is small enough to own:
 *
 *   --name VALUE, --name=VALUE, -n VALUE, -nVALUE, -h, --help, and "--",
 *   after which every argument is a word of the expression.
 *
 * Options and expression words may be interleaved. An option's value is
 * always the next argument, even when it starts with '-' ("--tz -05" is the
 * fixed offset -05:00). Giving an option twice is an error rather than "last
 * one wins": in a schedule a silently ignored --tz is a wrong answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct option_spec {
    const char *long_name;  /* without the dashes */
    char short_name;        /* 0 when there is none */
    unsigned bit;           /* TEMPO__CLI_OPT_*; 0 for --help, which all accept */
    const char *value_name; /* for messages; NULL for a flag */
} option_spec_t;

static const option_spec_t option_specs[] = {
    {"count", 'n', TEMPO__CLI_OPT_COUNT, "COUNT"},
    {"tz", 0, TEMPO__CLI_OPT_TZ, "ZONE"},
    {"after", 0, TEMPO__CLI_OPT_AFTER, "TIME"},
    {"dst-gap", 0, TEMPO__CLI_OPT_DST_GAP, "shift|skip"},
    {"fields", 0, TEMPO__CLI_OPT_FIELDS, "FIELDS"},
    {"help", 'h', 0, NULL},
};
#define N_OPTION_SPECS (sizeof option_specs / sizeof option_specs[0])

/* One option occurrence as the user wrote it. */
typedef struct option_use {
    const option_spec_t *spec;
    char spelled[32];  /* "--tz" or "-n", for messages */
    const char *value; /* NULL for a flag */
} option_use_t;

/* Parser state: the arguments and which expression words were seen. */
typedef struct parser {
    const tempo__cli_command_t *cmd;
    int argc;
    char **argv;
    int next;          /* index of the next argument to read */
    unsigned seen;     /* TEMPO__CLI_OPT_* given so far */
    int n_words;
    char **words;      /* expression words; points into argv */
} parser_t;

static const option_spec_t *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTION_SPECS; i++) {
        const char *ln = option_specs[i].long_name;
        if (strlen(ln) == len && memcmp(ln, name, len) == 0)
            return &option_specs[i];
    }
    return NULL;
}

static const option_spec_t *find_short(char c)
{
    for (size_t i = 0; i < N_OPTION_SPECS; i++) {
        if (option_specs[i].short_name != 0 && option_specs[i].short_name == c)
            return &option_specs[i];
    }
    return NULL;
}

static int missing_value(const option_use_t *use)
{
    return tempo__cli_usage_error("option '%s' needs a value (%s)", use->spelled,
                                  use->spec->value_name);
}

/* "--name" or "--name=value". */
static int read_long(parser_t *p, const char *arg, option_use_t *use)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);

    use->spec = find_long(name, len);
    if (!use->spec)
        return tempo__cli_usage_error("unknown option '--%.*s'", (int)len, name);
    snprintf(use->spelled, sizeof use->spelled, "--%s", use->spec->long_name);
    if (!use->spec->value_name) {
        if (eq)
            return tempo__cli_usage_error("option '%s' takes no value", use->spelled);
        use->value = NULL;
        return TEMPO__CLI_OK;
    }
    if (eq) {
        use->value = eq + 1;
    } else if (p->next < p->argc) {
        use->value = p->argv[p->next++];
    } else {
        return missing_value(use);
    }
    return TEMPO__CLI_OK;
}

/* "-n 5", "-n5", "-h". Short options are not bundled ("-hn5"): there are
 * only two, and a typo like "-tz" should be named, not half-understood. */
static int read_short(parser_t *p, const char *arg, option_use_t *use)
{
    use->spec = find_short(arg[1]);
    if (!use->spec || (!use->spec->value_name && arg[2] != '\0'))
        return tempo__cli_usage_error("unknown option '%s'", arg);
    snprintf(use->spelled, sizeof use->spelled, "-%c", arg[1]);
    if (!use->spec->value_name) {
        use->value = NULL;
    } else if (arg[2] != '\0') {
        use->value = arg + 2;
    } else if (p->next < p->argc) {
        use->value = p->argv[p->next++];
    } else {
        return missing_value(use);
    }
    return TEMPO__CLI_OK;
}

/* A count is plain decimal digits within bounds: no sign, no spaces, no
 * "5k". Digits are checked one by one, so the value never overflows. */
static int parse_count(const option_use_t *use, int *out)
{
    const char *s = use->value;
    long v = 0;
    bool ok = *s != '\0';
    for (; ok && *s; s++) {
        if (*s < '0' || *s > '9')
            ok = false;
        else if ((v = v * 10 + (*s - '0')) > TEMPO__CLI_COUNT_MAX)
            ok = false;
    }
    if (!ok || v < TEMPO__CLI_COUNT_MIN)
        return tempo__cli_usage_error("%s: '%s' is not a count (%d-%d)", use->spelled, use->value,
                                      TEMPO__CLI_COUNT_MIN, TEMPO__CLI_COUNT_MAX);
    *out = (int)v;
    return TEMPO__CLI_OK;
}

static int parse_dst_gap(const option_use_t *use, tempo_dst_gap_t *out)
{
    if (strcmp(use->value, "shift") == 0) {
        *out = TEMPO_DST_GAP_SHIFT;
    } else if (strcmp(use->value, "skip") == 0) {
        *out = TEMPO_DST_GAP_SKIP;
    } else {
        return tempo__cli_usage_error("%s: '%s' is not a policy (shift or skip)", use->spelled,
                                      use->value);
    }
    return TEMPO__CLI_OK;
}

/* Check that the command takes this option, once, and store its value. */
static int apply(parser_t *p, const option_use_t *use, tempo__cli_options_t *out)
{
    unsigned bit = use->spec->bit;
    if (bit == 0) {
        out->help = true;
        return TEMPO__CLI_OK;
    }
    if (!(p->cmd->accepts & bit))
        return tempo__cli_usage_error("option '%s' does not apply to 'tempo %s'", use->spelled,
                                      p->cmd->name);
    if (p->seen & bit)
        return tempo__cli_usage_error("option '%s' given twice", use->spelled);
    p->seen |= bit;

    switch (bit) {
    case TEMPO__CLI_OPT_COUNT:
        return parse_count(use, &out->count);
    case TEMPO__CLI_OPT_DST_GAP:
        return parse_dst_gap(use, &out->dst_gap);
    case TEMPO__CLI_OPT_TZ:
        out->tz = use->value;
        break;
    case TEMPO__CLI_OPT_AFTER:
        out->after = use->value;
        break;
    default: /* TEMPO__CLI_OPT_FIELDS */
        out->fields = use->value;
        break;
    }
    return TEMPO__CLI_OK;
}

static bool is_blank(const char *s)
{
    for (; *s; s++) {
        if (*s != ' ' && *s != '\t')
            return false;
    }
    return true;
}

/* The expression may come as one argument or as one argument per field (the
 * shell having split it); either way the library sees the fields separated
 * by single spaces, so column numbers in its messages match the one-argument
 * spelling. */
static int join_words(const parser_t *p, tempo__cli_options_t *out)
{
    size_t total = 1;
    for (int i = 0; i < p->n_words; i++)
        total += strlen(p->words[i]) + 1;
    char *s = malloc(total);
    if (!s)
        return tempo__cli_failure("out of memory");
    char *w = s;
    for (int i = 0; i < p->n_words; i++) {
        size_t len = strlen(p->words[i]);
        if (i > 0)
            *w++ = ' ';
        memcpy(w, p->words[i], len);
        w += len;
    }
    *w = '\0';
    out->expression = s;
    return TEMPO__CLI_OK;
}

/* After all arguments: exactly one of EXPRESSION and --fields. */
static int finish(const parser_t *p, tempo__cli_options_t *out)
{
    const char *cmd = p->cmd->name;
    if (out->fields && p->n_words > 0)
        return tempo__cli_usage_error("give either an EXPRESSION or --fields, not both");
    if (out->fields) {
        if (is_blank(out->fields))
            return tempo__cli_usage_error("--fields: no fields given");
        return TEMPO__CLI_OK;
    }
    if (p->n_words == 0)
        return tempo__cli_usage_error("missing EXPRESSION (see 'tempo %s --help')", cmd);
    int rc = join_words(p, out);
    if (rc == TEMPO__CLI_OK && is_blank(out->expression))
        rc = tempo__cli_usage_error("the EXPRESSION is empty (see 'tempo %s --help')", cmd);
    return rc;
}

/* Read one argument: an option (with its value) or an expression word. */
static int read_argument(parser_t *p, bool *only_words, tempo__cli_options_t *out)
{
    const char *arg = p->argv[p->next++];
    option_use_t use;
    int rc;

    if (*only_words || arg[0] != '-' || arg[1] == '\0') {
        p->words[p->n_words++] = (char *)arg;
        return TEMPO__CLI_OK;
    }
    if (strcmp(arg, "--") == 0) {
        *only_words = true;
        return TEMPO__CLI_OK;
    }
    rc = arg[1] == '-' ? read_long(p, arg, &use) : read_short(p, arg, &use);
    return rc != TEMPO__CLI_OK ? rc : apply(p, &use, out);
}

int tempo__cli_options_parse(const tempo__cli_command_t *cmd, int argc, char **argv,
                             tempo__cli_options_t *out)
{
    *out = (tempo__cli_options_t){.count = TEMPO__CLI_COUNT_DEFAULT,
                                  .dst_gap = TEMPO_DST_GAP_SHIFT};
    /* At most argc - 1 words; +1 keeps the size non-zero. */
    parser_t p = {.cmd = cmd, .argc = argc, .argv = argv, .next = 1,
                  .words = malloc(sizeof(char *) * ((size_t)argc + 1))};
    if (!p.words)
        return tempo__cli_failure("out of memory");

    bool only_words = false;
    int rc = TEMPO__CLI_OK;
    /* --help wins over whatever follows it (but not over an error before it),
     * so "tempo next --help" needs no EXPRESSION. */
    while (rc == TEMPO__CLI_OK && !out->help && p.next < argc)
        rc = read_argument(&p, &only_words, out);
    if (rc == TEMPO__CLI_OK && !out->help)
        rc = finish(&p, out);
    free(p.words);
    if (rc != TEMPO__CLI_OK)
        tempo__cli_options_free(out);
    return rc;
}

void tempo__cli_options_free(tempo__cli_options_t *opts)
{
    free(opts->expression);
    opts->expression = NULL;
}
