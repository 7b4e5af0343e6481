/*
 * Shared declarations of the command front ends: option tables, output,
 * error reporting and exit codes.  Commands include only this header,
 * <certctl.h> and libc.
 */
#ifndef CERTCTL_CLI_H
#define CERTCTL_CLI_H

#include <stdio.h>
#include "certctl.h"

/* Exit codes (certctl(1) EXIT STATUS). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 64

enum cli_opt_kind {
	OPT_END = 0,
	OPT_FLAG,   /* int target set to 1 */
	OPT_UNSET,  /* int target set to 0 */
	OPT_STRING, /* const char * target */
	OPT_LIST,   /* cc_strlist target, repeatable */
	OPT_UINT,   /* unsigned long target */
	OPT_GROUP,  /* a heading in --help; help is the heading */
};

struct cli_opt {
	char short_name;
	const char *long_name;
	enum cli_opt_kind kind;
	void *target;
	const char *arg_name;
	const char *help;
};

#define OPT_BOOL(s, l, t, h) { s, l, OPT_FLAG, t, NULL, h }
#define OPT_NO(s, l, t, h) { s, l, OPT_UNSET, t, NULL, h }
#define OPT_STR(s, l, t, a, h) { s, l, OPT_STRING, t, a, h }
#define OPT_MULTI(s, l, t, a, h) { s, l, OPT_LIST, t, a, h }
#define OPT_NUM(s, l, t, a, h) { s, l, OPT_UINT, t, a, h }
#define OPT_HEADING(h) { 0, NULL, OPT_GROUP, NULL, NULL, h }
#define OPT_DONE() { 0, NULL, OPT_END, NULL, NULL, NULL }

/* Global state set by main.c from the global options. */
struct cli_globals {
	const char *repo_dir; /* -C */
	int quiet;
	int verbose;
};
extern struct cli_globals cli;

/*
 * Parse argv[1..] of a command with `opts`.  `usage` is the synopsis line(s),
 * `summary` one sentence.  On return *first_arg indexes the first operand.
 * Returns 0 to go on, or EXIT_USAGE after printing a usage error (the
 * caller returns that code).  --help prints the help and exits with 0.
 */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char *usage,
	      const char *summary, int *first_arg);

/* Print `certctl: <message>` to stderr; returns EXIT_FAIL. */
int cli_error(const char *fmt, ...) CC_PRINTF(1, 2);
/* Print the library's last error; returns EXIT_FAIL. */
int cli_lib_error(void);
/* Print a usage error with a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) CC_PRINTF(2, 3);

/* Informational output on stdout unless -q. */
void cli_info(const char *fmt, ...) CC_PRINTF(1, 2);

/* Open the repository from -C, $CERTCTL_DIR or the current directory. */
int cli_open_repo(cc_repo **out);

/* Print a JSON document with its "schema" member and free it. */
int cli_print_json(cc_json *json);

/*
 * Read a whole file ("-" is standard input) of at most `max` bytes; prints
 * the error and returns EXIT_FAIL on failure.
 */
int cli_read_file(const char *path, size_t max, cc_buf *out);

/*
 * Write `len` bytes to a new file `path` with `mode`; an existing file is
 * replaced only with `force`.  Prints the error and returns EXIT_FAIL.
 */
int cli_write_file(const char *path, const void *data, size_t len, unsigned mode, int force);

/*
 * Before a command commits: refuse an output file that exists, unless
 * `force` ("-" is standard output and always fine).  Prints the error and
 * returns EXIT_FAIL.
 */
int cli_output_check(const char *path, int force);

/* A secret from --*-passphrase-file FILE, else $VAR_FILE, else $VAR;
 * `required` makes its absence an error. */
int cli_passphrase(cc_secret **out, const char *file, const char *var, int required);

/* A verb of a command with verbs (certctl key VERB, certctl ca VERB). */
struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Run the verb named by argv[1] of `command`, or print the verb list. */
int cli_dispatch(const char *command, const struct cli_verb *verbs, size_t count, int argc,
		 char **argv);

/*
 * Print `word` left-aligned in `width` columns, coloured by what it says
 * (OK, WARNING, CRITICAL, UNKNOWN, error, warning) when colour is on for
 * `stream` (--color, NO_COLOR, the color setting; a terminal by default).
 */
void cli_paint(FILE *stream, const char *word, int width);

/* The closest of `candidates` (NULL-terminated) to `word`, or NULL. */
const char *cli_suggest(const char *word, const char *const *candidates);

/* The commands (one file each). */
int cmd_init(int argc, char **argv);
int cmd_define(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_acquire(int argc, char **argv);
int cmd_current(int argc, char **argv);
int cmd_requests(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_issue(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_deployments(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_verify(int argc, char **argv);

#endif
