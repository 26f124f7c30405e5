/* main.c — the `pond` command (docs/PIPELINES.md): parses the command line,
 * drives a session through the public API, and maps statuses to exit codes
 * (0 ok; 1 the job failed; 2 usage or script error, nothing ran). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pond.h"

static const char *usage_run =
	"usage: pond run SCRIPT [-w N] [-D NAME=VALUE]... [--job-dir DIR] [--resume]\n"
	"                [--threads T] [--memory-limit SIZE] [--seed S]\n"
	"                [--progress auto|plain|none] [--max-attempts N]\n"
	"                [--task-timeout SECONDS] [--speculate] [--inject-faults P[,SEED]]\n"
	"                [--keep-intermediates]\n"
	"\n"
	"Runs a pipeline script on this machine's cores (or, under mpirun/srun, on\n"
	"the MPI ranks). Output directories get _SUCCESS when complete.\n"
	"  -w N               worker processes (default: number of cores)\n"
	"  -D NAME=VALUE      ${NAME} in the script: VALUE as text inside a string,\n"
	"                     a number (or true/false) outside one\n"
	"  --job-dir DIR      plan, journal, intermediate data (default\n"
	"                     .pond/<script>-<hash of its path and -D values>); locked\n"
	"                     while a run uses it\n"
	"  --resume           re-run only the tasks the journal does not show committed\n"
	"  --threads T        DuckDB threads per task (default: cores / workers)\n"
	"  --memory-limit S   DuckDB memory per task, e.g. 4GB (default: 80% of RAM / workers)\n"
	"  --seed S           seed for sampling and random_shuffle (default 42)\n"
	"  --progress MODE    auto (a redrawn line on a terminal), plain, none\n"
	"  --max-attempts N   attempts per task before the job fails (default 3)\n"
	"  --task-timeout S   cancel and retry a task attempt running longer than S seconds\n"
	"  --speculate        start a task running far longer than its stage's median\n"
	"                     again on an idle worker; the first to commit wins\n"
	"  --inject-faults P[,SEED]  kill task attempts with probability P at seeded\n"
	"                     random points (start, mid-query, before/after commit)\n"
	"  --keep-intermediates  keep shuffle and other intermediate files in the job\n"
	"                     directory after success (they are removed by default)\n";

static const char *usage_explain =
	"usage: pond explain SCRIPT [-D NAME=VALUE]... [--job-dir DIR] [--seed S]\n"
	"\n"
	"Prints the logical plan and the stages (task counts, shuffle boundaries,\n"
	"the fused SQL of one task of each stage) without running anything.\n";

static const char *usage_main =
	"usage: pond COMMAND [ARGS]\n"
	"\n"
	"  run SCRIPT       run a pipeline script\n"
	"  explain SCRIPT   show how a script would run\n"
	"  version          print the version\n"
	"  help [COMMAND]   show help\n";

static int usage_error(const char *fmt, const char *arg, const char *usage)
{
	fprintf(stderr, "pond: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
}

static int parse_size(const char *s, int64_t *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	while (*end == ' ')
		end++;
	static const struct { const char *u; double m; } units[] = {
		{ "", 1 }, { "B", 1 }, { "KB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 }, { "TB", 1e12 },
		{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 },
		{ "K", 1e3 }, { "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 },
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].u)) {
			*out = (int64_t)(v * units[i].m);
			return *out > 0 ? 0 : -1;
		}
	return -1;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < lo || *out > hi ? -1 : 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	if (got_signal) { /* a second one: stop waiting for a clean stop */
		signal(sig, SIG_DFL);
		raise(sig);
	}
	got_signal = sig;
	pond_interrupt();
}

/* SIGINT/SIGTERM stop the run cleanly (workers ended, nothing more
 * published); the CLI then says so and dies of the same signal, so that
 * a calling shell sees an interrupted command (exit 128+signal). */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int status_exit(pond_status st)
{
	switch (st) {
	case POND_OK:
		return 0;
	case POND_EUSAGE:
	case POND_EEXISTS:
		return 2;
	default:
		return 1;
	}
}

static int cmd_run(int argc, char **argv, int explain)
{
	const char *usage = explain ? usage_explain : usage_run;
	const char **defines = calloc((size_t)argc + 1, sizeof(char *));
	const char *script = NULL;
	pond_options o;
	pond_session *s = NULL;
	pond_status st = POND_OK;
	int code = 0;

	pond_options_init(&o);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;
		int64_t size;
#define NEED_VALUE() do { if (!v) { code = usage_error("%s needs a value", a, usage); goto out; } i++; } while (0)
		if (!strcmp(a, "-D")) {
			NEED_VALUE();
			if (!strchr(v, '=') || v[0] == '=') {
				code = usage_error("-D takes NAME=VALUE, not '%s'", v, usage);
				goto out;
			}
			defines[o.ndefines++] = v;
		} else if (!strncmp(a, "-D", 2) && a[2]) {
			if (!strchr(a + 2, '=')) {
				code = usage_error("-D takes NAME=VALUE, not '%s'", a + 2, usage);
				goto out;
			}
			defines[o.ndefines++] = a + 2;
		} else if (!strcmp(a, "--job-dir")) {
			NEED_VALUE();
			o.job_dir = v;
		} else if (!strcmp(a, "--seed")) {
			NEED_VALUE();
			char *end;
			errno = 0;
			o.seed = strtoull(v, &end, 10);
			if (errno || *end || !*v || *v == '-') {
				code = usage_error("--seed takes a non-negative integer, not '%s'", v, usage);
				goto out;
			}
		} else if (!explain && !strcmp(a, "-w")) {
			NEED_VALUE();
			if (parse_int(v, 1, 4096, &n)) {
				code = usage_error("-w takes a number of workers from 1 to 4096, not '%s'", v, usage);
				goto out;
			}
			o.workers = (int)n;
		} else if (!explain && !strcmp(a, "--threads")) {
			NEED_VALUE();
			if (parse_int(v, 1, 1024, &n)) {
				code = usage_error("--threads takes a number from 1 to 1024, not '%s'", v, usage);
				goto out;
			}
			o.threads = (int)n;
		} else if (!explain && !strcmp(a, "--max-attempts")) {
			NEED_VALUE();
			if (parse_int(v, 1, 100, &n)) {
				code = usage_error("--max-attempts takes a number from 1 to 100, not '%s'", v, usage);
				goto out;
			}
			o.max_attempts = (int)n;
		} else if (!explain && !strcmp(a, "--memory-limit")) {
			NEED_VALUE();
			if (parse_size(v, &size)) {
				code = usage_error("--memory-limit takes a size such as 4GB or 512MiB, not '%s'", v, usage);
				goto out;
			}
			o.memory_limit = size;
		} else if (!explain && !strcmp(a, "--progress")) {
			NEED_VALUE();
			if (!strcmp(v, "auto"))
				o.progress = POND_PROGRESS_AUTO;
			else if (!strcmp(v, "plain"))
				o.progress = POND_PROGRESS_PLAIN;
			else if (!strcmp(v, "none"))
				o.progress = POND_PROGRESS_NONE;
			else {
				code = usage_error("--progress takes auto, plain or none, not '%s'", v, usage);
				goto out;
			}
		} else if (!explain && !strcmp(a, "--resume")) {
			o.resume = true;
		} else if (!explain && !strcmp(a, "--speculate")) {
			o.speculate = true;
		} else if (!explain && !strcmp(a, "--keep-intermediates")) {
			o.keep_intermediates = true;
		} else if (!explain && !strcmp(a, "--task-timeout")) {
			char *end;
			NEED_VALUE();
			errno = 0;
			o.task_timeout = strtod(v, &end);
			if (errno || end == v || *end || o.task_timeout <= 0) {
				code = usage_error("--task-timeout takes a number of seconds > 0, not '%s'", v, usage);
				goto out;
			}
		} else if (!explain && !strcmp(a, "--inject-faults")) {
			char *end;
			NEED_VALUE();
			errno = 0;
			o.inject_p = strtod(v, &end);
			if (*end == ',') {
				char *e2;
				o.inject_seed = strtoull(end + 1, &e2, 10);
				if (e2 == end + 1 || *e2)
					end = e2 == end + 1 ? end : e2;
				else
					end = e2;
			}
			if (errno || end == v || *end || o.inject_p < 0 || o.inject_p > 1) {
				code = usage_error("--inject-faults takes P[,SEED] with 0 <= P <= 1, not '%s'", v, usage);
				goto out;
			}
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			goto out;
		} else if (a[0] == '-' && a[1]) {
			code = usage_error("unknown option '%s'", a, usage);
			goto out;
		} else if (!script) {
			script = a;
		} else {
			code = usage_error("unexpected argument '%s' (one script at a time)", a, usage);
			goto out;
		}
#undef NEED_VALUE
	}
	if (!script) {
		code = usage_error("%s", "missing the SCRIPT to run", usage);
		goto out;
	}
	o.defines = defines;
	if (!explain && pond_mpi_launched()) {
		char msg[1024] = "";
		int rank = 0, size = 1;
		pond_status ms = pond_mpi_init(NULL, NULL, &rank, &size, msg, sizeof(msg));
		if (ms != POND_OK) {
			fprintf(stderr, "pond: %s\n", msg);
			code = status_exit(ms);
			pond_mpi_finalize();
			goto out;
		}
		if (rank != 0) {
			code = pond_mpi_worker();
			pond_mpi_finalize();
			goto out;
		}
		o.mpi = size > 1; /* a single rank runs local workers */
	}
	pond_session_new(&o, &s);
	if (!s) {
		fprintf(stderr, "pond: out of memory\n");
		code = 1;
		goto out;
	}
	if (!explain)
		catch_signals();
	st = pond_load_script(s, script);
	if (st == POND_OK)
		st = explain ? pond_explain(s, stdout) : pond_run(s);
	if (st != POND_OK)
		fprintf(stderr, "pond: %s\n", pond_errmsg(s));
	code = status_exit(st);
	pond_mpi_finalize(); /* releases MPI worker ranks; no-op otherwise */
out:
	pond_session_free(s);
	free(defines);
	if (st == POND_EINTR && got_signal) {
		fflush(NULL);
		signal(got_signal, SIG_DFL);
		raise(got_signal);
	}
	return code;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2, 0);
	if (!strcmp(cmd, "explain"))
		return cmd_run(argc - 2, argv + 2, 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("pond %s\n", POND_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		const char *topic = argc > 2 ? argv[2] : NULL;
		if (!topic)
			fputs(usage_main, stdout);
		else if (!strcmp(topic, "run"))
			fputs(usage_run, stdout);
		else if (!strcmp(topic, "explain"))
			fputs(usage_explain, stdout);
		else
			return usage_error("no help for '%s'", topic, usage_main);
		return 0;
	}
	return usage_error("unknown command '%s'", cmd, usage_main);
}
