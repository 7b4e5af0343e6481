/*
 * Option tables: one table per command drives getopt_long, --help and the
 * "did you mean" hint, so the three cannot drift apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

struct cli_globals cli;

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("certctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAIL;
}

int cli_lib_error(void)
{
	const char *msg = cc_error_last();

	return cli_error("%s", msg && *msg ? msg : "unknown error");
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("certctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'certctl %s%s--help'.\n", command ? command : "",
		command ? " " : "");
	return EXIT_USAGE;
}

void cli_info(const char *fmt, ...)
{
	va_list ap;

	if (cli.quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

int cli_open_repo(cc_repo **out)
{
	if (cc_repo_open(out, cli.repo_dir, 0) < 0)
		return cli_lib_error();
	return 0;
}

int cli_print_json(cc_json *json)
{
	cc_buf out = CC_BUF_INIT;
	int rc;

	if (!json)
		return cli_error("out of memory");
	rc = cc_json_dump(json, 1, &out);
	cc_json_free(json);
	if (rc < 0)
		return cli_lib_error();
	fwrite(out.ptr, 1, out.size, stdout);
	cc_buf_dispose(&out);
	return EXIT_OK;
}

const char *cli_suggest(const char *word, const char *const *candidates)
{
	return cc_suggest(word, candidates);
}

static void print_help(const struct cli_opt *opts, const char *usage, const char *summary)
{
	printf("usage: %s\n\n%s\n", usage, summary);
	for (const struct cli_opt *o = opts; o->kind != OPT_END; o++) {
		char left[64];

		if (o->kind == OPT_GROUP) {
			printf("\n%s:\n", o->help);
			continue;
		}
		if (o == opts)
			printf("\noptions:\n");
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ",
			 o->long_name, o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
		if (!o->short_name)
			memmove(left, left + 2, strlen(left + 2) + 1);
		printf("  %-26s %s\n", left, o->help);
	}
	printf("  %-26s %s\n", "-q, --quiet", "print only errors and requested data");
	printf("  %-26s %s\n", "-v, --verbose", "print more detail");
	printf("  %-26s %s\n", "-h, --help", "show this help");
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, const char *usage,
	      const char *summary, int *first_arg)
{
	struct option longs[128];
	char shorts[256] = ":h";
	const char *names[132];
	size_t n = 0, sl = 2, nn = 0;
	int c, rc = 0;

	for (const struct cli_opt *o = opts; o->kind != OPT_END && n < 124; o++) {
		int has_arg;

		if (o->kind == OPT_GROUP)
			continue;
		has_arg = o->kind == OPT_STRING || o->kind == OPT_LIST || o->kind == OPT_UINT;
		longs[n].name = o->long_name;
		longs[n].has_arg = has_arg ? required_argument : no_argument;
		longs[n].flag = NULL;
		longs[n].val = 256 + (int)(o - opts);
		names[nn++] = o->long_name;
		n++;
		if (o->short_name && sl + 3 < sizeof(shorts)) {
			shorts[sl++] = o->short_name;
			if (has_arg)
				shorts[sl++] = ':';
		}
	}
	/* -h, -q and -v work on every command. */
	{
		static const struct { const char *name; int val; } common[] = {
			{ "help", 'h' }, { "quiet", 'q' }, { "verbose", 'v' },
		};

		for (size_t i = 0; i < 3; i++, n++) {
			longs[n].name = common[i].name;
			longs[n].has_arg = no_argument;
			longs[n].flag = NULL;
			longs[n].val = common[i].val;
			names[nn++] = common[i].name;
		}
	}
	names[nn] = NULL;
	memset(&longs[n], 0, sizeof(longs[0]));
	if (sl + 2 < sizeof(shorts)) {
		shorts[sl++] = 'q';
		shorts[sl++] = 'v';
	}
	shorts[sl] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct cli_opt *o = NULL;

		if (c == 'h') {
			/* --help ends the command whatever else was given. */
			print_help(opts, usage, summary);
			fflush(stdout);
			exit(ferror(stdout) ? EXIT_FAIL : EXIT_OK);
		}
		if (c == 'q') {
			cli.quiet = 1;
			continue;
		}
		if (c == 'v') {
			cli.verbose++;
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (bad && strncmp(bad, "--", 2) == 0) {
				char word[64];
				const char *hint;

				snprintf(word, sizeof(word), "%.*s", (int)strcspn(bad + 2, "="), bad + 2);
				hint = cli_suggest(word, names);
				for (size_t i = 0; i < n; i++)
					if (!strcmp(longs[i].name, word) && longs[i].has_arg)
						return cli_usage_error(argv[0], "option '--%s' needs a value",
								       word);
				if (hint)
					return cli_usage_error(argv[0],
							       "unknown option '%s'; did you mean '--%s'?",
							       bad, hint);
				return cli_usage_error(argv[0], "unknown option '%s'", bad);
			}
			if (c == ':' || (optopt && strchr(shorts, optopt)))
				return cli_usage_error(argv[0], "option '-%c' needs a value", optopt);
			return cli_usage_error(argv[0], "unknown option '-%c'", optopt ? optopt : '?');
		}
		if (c >= 256)
			o = &opts[c - 256];
		else
			for (const struct cli_opt *p = opts; p->kind != OPT_END; p++)
				if (p->short_name == c)
					o = p;
		if (!o)
			continue;
		switch (o->kind) {
		case OPT_FLAG:
			*(int *)o->target = 1;
			break;
		case OPT_UNSET:
			*(int *)o->target = 0;
			break;
		case OPT_STRING:
			*(const char **)o->target = optarg;
			break;
		case OPT_LIST:
			if (cc_strlist_add(o->target, optarg) < 0)
				return cli_lib_error();
			break;
		case OPT_UINT: {
			char *end = NULL;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || *optarg == '-')
				return cli_usage_error(argv[0], "option '--%s' needs a number, not '%s'",
						       o->long_name, optarg);
			*(unsigned long *)o->target = v;
			break;
		}
		default:
			break;
		}
	}
	*first_arg = optind;
	return rc;
}

int cli_read_file(const char *path, size_t max, cc_buf *out)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	char chunk[8192];
	ssize_t n;

	if (fd < 0)
		return cli_error("cannot open '%s': %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->size + (size_t)n > max) {
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_error("'%s' is too large (%zu bytes at most)", path, max);
		}
		if (cc_buf_put(out, chunk, (size_t)n) < 0) {
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_lib_error();
		}
	}
	if (n < 0) {
		int err = errno;

		if (fd != STDIN_FILENO)
			close(fd);
		return cli_error("cannot read '%s': %s", path, strerror(err));
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
}

int cli_write_file(const char *path, const void *data, size_t len, unsigned mode, int force)
{
	int fd, err;

	if (!strcmp(path, "-")) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return cli_error("cannot write to standard output");
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
		  mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return cli_error("'%s' exists (use --force to overwrite)", path);
		return cli_error("cannot create '%s': %s", path, strerror(errno));
	}
	if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		err = errno;
		close(fd);
		return cli_error("cannot write '%s': %s", path, strerror(err));
	}
	if (close(fd) < 0)
		return cli_error("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int cli_output_check(const char *path, int force)
{
	if (path && !force && strcmp(path, "-") && access(path, F_OK) == 0)
		return cli_error("'%s' exists (use --force to overwrite)", path);
	return 0;
}

int cli_passphrase(cc_secret **out, const char *file, const char *var, int required)
{
	char file_var[64];

	*out = NULL;
	if (file) {
		if (cc_secret_from_file(out, file) < 0)
			return cli_error("cannot read the passphrase from '%s': %s", file,
					 cc_error_last());
		return 0;
	}
	snprintf(file_var, sizeof(file_var), "%s_FILE", var);
	if (cc_secret_from_env(out, file_var, var, NULL) == 0)
		return 0;
	if (cc_error_code() != CC_ENOTFOUND)
		return cli_lib_error();
	cc_error_clear();
	if (required)
		return cli_error("no passphrase: use a --*passphrase-file option or set $%s_FILE or "
				 "$%s", var, var);
	return 0;
}

int cli_dispatch(const char *command, const struct cli_verb *verbs, size_t count, int argc,
		 char **argv)
{
	const char *names[64];
	const char *hint;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		FILE *out = argc < 2 ? stderr : stdout;

		fprintf(out, "usage: certctl %s VERB [options]\n\nverbs:\n", command);
		for (size_t i = 0; i < count; i++)
			fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].help);
		fprintf(out, "\n'certctl %s VERB --help' lists a verb's options.\n", command);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < count && i < 63; i++) {
		names[i] = verbs[i].name;
		if (!strcmp(argv[1], verbs[i].name)) {
			/* Usage errors of the verb name it in full: 'certctl ca init'. */
			static char full[64];

			snprintf(full, sizeof(full), "%s %s", command, verbs[i].name);
			argv[1] = full;
			return verbs[i].fn(argc - 1, argv + 1);
		}
	}
	names[count < 63 ? count : 63] = NULL;
	hint = cli_suggest(argv[1], names);
	if (hint)
		return cli_usage_error(command, "unknown verb '%s'; did you mean '%s'?", argv[1], hint);
	return cli_usage_error(command, "unknown verb '%s'", argv[1]);
}

/*
 * Whether to colour what goes to `stream`: -c color / --color and
 * CERTCTL_COLOR decide when given; else NO_COLOR (no-color.org) turns
 * colour off; else the user configuration's color, "auto" meaning a
 * terminal that is not dumb.
 */
static int use_color(FILE *stream)
{
	cc_setting st;
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

	if (cc_setting_get(&st, NULL, "color") < 0) {
		cc_error_clear();
		return 0;
	}
	if (st.layer < CC_SETTING_ENVIRONMENT && no_color && *no_color)
		return 0;
	if (!strcmp(st.value, "always"))
		return 1;
	if (!strcmp(st.value, "never"))
		return 0;
	return isatty(fileno(stream)) && term && *term && strcmp(term, "dumb") != 0;
}

void cli_paint(FILE *stream, const char *word, int width)
{
	static int color = -1;
	const char *code = NULL;

	if (color < 0)
		color = use_color(stream);
	if (color) {
		if (!strcmp(word, "OK"))
			code = "32";
		else if (!strcmp(word, "WARNING") || !strcmp(word, "warning"))
			code = "33";
		else if (!strcmp(word, "CRITICAL") || !strcmp(word, "error"))
			code = "1;31";
		else if (!strcmp(word, "UNKNOWN"))
			code = "35";
	}
	if (code)
		fprintf(stream, "\033[%sm%-*s\033[m", code, width, word);
	else
		fprintf(stream, "%-*s", width, word);
}
