/*
 * Running programs: an argv list (never a shell string), a bounded time,
 * the output captured (its tail kept), and an environment without the
 * repository's secrets.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int cc_run_find(const char *program, cc_buf *out)
{
	const char *path = getenv("PATH");
	struct stat st;

	cc_buf_clear(out);
	if (!program || !*program)
		return cc_error_set(CC_EINVALID, "empty program name");
	if (strchr(program, '/')) {
		if (stat(program, &st) == 0 && S_ISREG(st.st_mode) && access(program, X_OK) == 0)
			return cc_buf_puts(out, program);
		return cc_error_set(CC_ENOTFOUND, "%s: %s", program,
				    stat(program, &st) ? "no such program" : "not executable");
	}
	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; ; ) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);

		cc_buf_clear(out);
		if (cc_buf_put(out, n ? p : ".", n ? n : 1) < 0 || cc_buf_printf(out, "/%s", program) < 0)
			return CC_ERROR;
		if (stat(out->ptr, &st) == 0 && S_ISREG(st.st_mode) && access(out->ptr, X_OK) == 0)
			return 0;
		if (!colon)
			break;
		p = colon + 1;
	}
	cc_buf_clear(out);
	return cc_error_set(CC_ENOTFOUND, "%s: command not found in PATH", program);
}

/* Keep only the last `max` bytes of what a program printed. */
static void keep_tail(cc_buf *out, size_t max)
{
	if (out->size <= max)
		return;
	memmove(out->ptr, out->ptr + out->size - max, max);
	out->size = max;
	out->ptr[max] = '\0';
}

int cc_run(const cc_run_options *opts, cc_run_result *res)
{
	cc_buf path = CC_BUF_INIT;
	char **envp = NULL;
	size_t nenv = 0, nadd = 0, max = opts->max_output ? opts->max_output : 4096;
	int pipefd[2] = { -1, -1 }, rc = 0;
	pid_t pid;
	double until;

	memset(res, 0, sizeof(*res));
	res->status = -1;
	if (!opts->argv || !opts->argv[0])
		return cc_error_set(CC_EINVALID, "no program to run");
	if ((rc = cc_run_find(opts->argv[0], &path)) < 0) {
		res->not_found = 1;
		goto done;
	}
	for (char **e = environ; e && *e; e++)
		nenv++;
	for (const char *const *a = opts->env; a && *a; a++)
		nadd++;
	if (!(envp = calloc(nenv + nadd + 1, sizeof(*envp)))) {
		rc = cc_error_set(CC_ERROR, "out of memory");
		goto done;
	}
	nenv = 0;
	/* Nothing of certctl's own settings reaches the program: passphrases
	 * and secret files among them.  It gets the variables we give it. */
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "CERTCTL_", 8))
			envp[nenv++] = *e;
	for (const char *const *a = opts->env; a && *a; a++)
		envp[nenv++] = (char *)*a;
	if (pipe(pipefd) < 0) {
		rc = cc_error_errno(CC_ERROR, "cannot run %s", opts->argv[0]);
		goto done;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = cc_error_errno(CC_ERROR, "cannot run %s", opts->argv[0]);
		goto done;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		/* Its own process group, so a timeout kills what it started too. */
		setpgid(0, 0);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		if (opts->cwd && chdir(opts->cwd) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execve(path.ptr, opts->argv, envp);
		_exit(127);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	pipefd[1] = -1;
	until = now_ms() + (double)(opts->timeout_ms > 0 ? opts->timeout_ms : 60000);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (int open_pipe = 1; open_pipe;) {
		struct pollfd pfd = { pipefd[0], POLLIN, 0 };
		double left = until - now_ms();
		char chunk[4096];
		ssize_t n;

		if (left <= 0) {
			res->timed_out = 1;
			break;
		}
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left + 1) < 0 && errno != EINTR)
			break;
		while ((n = read(pipefd[0], chunk, sizeof(chunk))) > 0) {
			cc_buf_put(&res->output, chunk, (size_t)n);
			keep_tail(&res->output, max);
		}
		if (n == 0)
			open_pipe = 0;
	}
	if (res->timed_out)
		kill(-pid, SIGKILL);
	/* The output is closed (or we gave up): the program is ending; a
	 * program that closed its output but goes on is bounded too. */
	for (;;) {
		int status;
		pid_t w = waitpid(pid, &status, res->timed_out ? 0 : WNOHANG);

		if (w == pid) {
			if (WIFEXITED(status)) {
				res->status = WEXITSTATUS(status);
			} else if (WIFSIGNALED(status)) {
				res->signal = WTERMSIG(status);
			}
			break;
		}
		if (w < 0 && errno != EINTR) {
			rc = cc_error_errno(CC_ERROR, "waiting for %s", opts->argv[0]);
			break;
		}
		if (w == 0 && now_ms() > until) {
			res->timed_out = 1;
			kill(-pid, SIGKILL);
			continue;
		}
		if (w == 0) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	if (res->status == 127 && !res->output.size)
		res->not_found = 1;
done:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(envp);
	cc_buf_dispose(&path);
	return rc;
}

int cc_run_describe(const cc_run_options *opts, const cc_run_result *res, cc_buf *out)
{
	long secs = (opts->timeout_ms > 0 ? opts->timeout_ms : 60000) / 1000;

	if (res->not_found)
		return cc_buf_printf(out, "%s: command not found", opts->argv[0]);
	if (res->timed_out)
		return cc_buf_printf(out, "%s did not finish within %lds (killed)", opts->argv[0],
				     secs ? secs : 1);
	if (res->signal)
		return cc_buf_printf(out, "%s was killed by signal %d", opts->argv[0], res->signal);
	return cc_buf_printf(out, "%s exited with status %d", opts->argv[0], res->status);
}

void cc_run_result_dispose(cc_run_result *res)
{
	cc_buf_dispose(&res->output);
	memset(res, 0, sizeof(*res));
}
