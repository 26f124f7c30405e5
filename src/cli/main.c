/* main.c — the `pond` command (docs/PIPELINES.md): parses the command line,
 * drives a session through the public API, and maps statuses to exit codes
 * (0 ok; 1 the job failed; 2 usage or script error, nothing ran). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pond.h"

static const char *usage_run =
	"usage: pond run SCRIPT [-w N] [-D NAME=VALUE]... [--job-dir DIR] [--resume]\n"
	"                [--threads T] [--memory-limit SIZE] [--seed S]\n"
	"                [--progress auto|plain|none] [--max-attempts N]\n"
	"                [--task-timeout SECONDS] [--speculate] [--inject-faults P[,SEED]]\n"
	"                [--keep-intermediates] [--report FILE.html]\n"
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
	"                     directory after success (they are removed by default)\n"
	"  --report FILE.html write a self-contained run report (stages, task times,\n"
	"                     timeline, failures) at the end, also when the run fails;\n"
	"                     every run also writes DIR/trace.json (open it in Perfetto)\n";

static const char *usage_report =
	"usage: pond report JOBDIR [-o FILE.html]\n"
	"\n"
	"Makes the run report of a job directory, also of a run that failed or was\n"
	"killed: one self-contained HTML page (default JOBDIR/report.html) and\n"
	"JOBDIR/trace.json. Prints the page's path.\n";

static const char *usage_explain =
	"usage: pond explain SCRIPT [-D NAME=VALUE]... [--job-dir DIR] [--seed S]\n"
	"\n"
	"Prints the logical plan and the stages (task counts, shuffle boundaries,\n"
	"the fused SQL of one task of each stage) without running anything.\n";

static const char *usage_sql =
	"usage: pond sql QUERY | -f FILE.sql [-t NAME=PATHS]... [--tables DIR] [-o DIR]\n"
	"                [--format parquet|csv] [--explain] [--max-rows N]\n"
	"                [--broadcast-limit SIZE] [run flags]\n"
	"\n"
	"Runs one DuckDB query over files, planned across the workers (see\n"
	"docs/SQL.md): the rows single-process DuckDB would return.\n"
	"  QUERY              the query; tables are paths or globs in it\n"
	"                     ('sales/*.parquet'), read_parquet/read_csv/read_json\n"
	"                     calls, or names bound by -t and --tables\n"
	"  -f FILE.sql        read the query from FILE.sql\n"
	"  -t NAME=PATHS      table NAME is these files (comma-separated paths or\n"
	"                     globs; Parquet, CSV or JSON by extension; a directory:\n"
	"                     its files)\n"
	"  --tables DIR       every DIR/NAME.parquet|csv|json and DIR/NAME/ is table NAME\n"
	"  -o DIR             write the result to DIR (part files in order, then\n"
	"                     _SUCCESS); without it the result is printed\n"
	"  --format F         parquet (default) or csv, for -o\n"
	"  --explain          print how the query is planned (stages, shuffle keys,\n"
	"                     what runs as one task and why) without running it\n"
	"  --max-rows N       rows printed without -o (default 40), then the row count\n"
	"  --broadcast-limit S  a joined table of at most S bytes of files is read whole\n"
	"                     by every task instead of shuffled (default 64MB; 0: never)\n"
	"  run flags          -w, --job-dir, --resume, --threads, --memory-limit, --seed,\n"
	"                     --progress, --max-attempts, --task-timeout, --speculate,\n"
	"                     --inject-faults, --keep-intermediates, --report: as for\n"
	"                     pond run (the default job directory is\n"
	"                     .pond/<FILE or sql>-<hash of the query, tables and output>)\n";

static const char *usage_main =
	"usage: pond COMMAND [ARGS]\n"
	"\n"
	"  run SCRIPT       run a pipeline script\n"
	"  explain SCRIPT   show how a script would run\n"
	"  sql QUERY        run one query over files, planned across workers\n"
	"  report JOBDIR    make the HTML report of a run (also a failed one)\n"
	"  version          print the version\n"
	"  help [COMMAND]   show help\n";

static int usage_error(const char *fmt, const char *arg, const char *usage)
{
	fprintf(stderr, "pond: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return 2;
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

/* ---- flags -------------------------------------------------------------- */

/* The command line being parsed: the options it fills, and the -D values
 * (pointers into argv) they point to. */
typedef enum { CMD_RUN = 1, CMD_EXPLAIN = 2, CMD_SQL = 4 } command;

typedef struct {
	pond_options o;
	const char **defines;
	const char *script; /* pond sql: the query */
	command cmd;
	pond_sql q; /* pond sql */
	const char **tables;
	bool explain; /* pond sql --explain */
} cli;

static int parse_int(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < lo || *out > hi ? -1 : 0;
}

static int set_define(cli *c, const char *v)
{
	if (!strchr(v, '=') || v[0] == '=')
		return -1;
	c->defines[c->o.ndefines++] = v;
	return 0;
}

static int set_job_dir(cli *c, const char *v)
{
	c->o.job_dir = v;
	return 0;
}

static int set_seed(cli *c, const char *v)
{
	char *end;
	errno = 0;
	c->o.seed = strtoull(v, &end, 10);
	return errno || *end || !*v || *v == '-' ? -1 : 0;
}

static int set_workers(cli *c, const char *v)
{
	long n;
	int rc = parse_int(v, 1, 4096, &n);
	c->o.workers = (int)n;
	return rc;
}

static int set_threads(cli *c, const char *v)
{
	long n;
	int rc = parse_int(v, 1, 1024, &n);
	c->o.threads = (int)n;
	return rc;
}

static int set_max_attempts(cli *c, const char *v)
{
	long n;
	int rc = parse_int(v, 1, 100, &n);
	c->o.max_attempts = (int)n;
	return rc;
}

static int set_memory_limit(cli *c, const char *v)
{
	return pond_parse_size(v, &c->o.memory_limit) == POND_OK ? 0 : -1;
}

static int set_progress(cli *c, const char *v)
{
	static const char *const modes[] = {
		[POND_PROGRESS_AUTO] = "auto", [POND_PROGRESS_PLAIN] = "plain", [POND_PROGRESS_NONE] = "none"
	};
	for (int m = POND_PROGRESS_AUTO; m <= POND_PROGRESS_NONE; m++)
		if (!strcmp(v, modes[m])) {
			c->o.progress = (pond_progress)m;
			return 0;
		}
	return -1;
}

static int set_task_timeout(cli *c, const char *v)
{
	char *end;
	errno = 0;
	c->o.task_timeout = strtod(v, &end);
	return errno || end == v || *end || c->o.task_timeout <= 0 ? -1 : 0;
}

/* P[,SEED] */
static int set_inject_faults(cli *c, const char *v)
{
	char *end, *e2;
	errno = 0;
	c->o.inject_p = strtod(v, &end);
	if (*end == ',') {
		c->o.inject_seed = strtoull(end + 1, &e2, 10);
		if (e2 != end + 1)
			end = e2;
	}
	return errno || end == v || *end || c->o.inject_p < 0 || c->o.inject_p > 1 ? -1 : 0;
}

static int set_report(cli *c, const char *v)
{
	c->o.report = v;
	return *v ? 0 : -1;
}

static int set_sql_file(cli *c, const char *v)
{
	c->q.file = v;
	return 0;
}

static int set_sql_table(cli *c, const char *v)
{
	if (!strchr(v, '=') || v[0] == '=')
		return -1;
	c->tables[c->q.ntables++] = v;
	return 0;
}

static int set_sql_tables(cli *c, const char *v)
{
	c->q.tables_dir = v;
	return 0;
}

static int set_sql_output(cli *c, const char *v)
{
	c->q.output = v;
	return *v ? 0 : -1;
}

static int set_sql_format(cli *c, const char *v)
{
	if (!strcmp(v, "parquet") || !strcmp(v, "csv")) {
		c->q.format = !strcmp(v, "csv") ? POND_SQL_CSV : POND_SQL_PARQUET;
		return 0;
	}
	return -1;
}

static int set_sql_max_rows(cli *c, const char *v)
{
	long n;
	int rc = parse_int(v, 1, 1000000, &n);
	c->q.max_rows = n;
	return rc;
}

static int set_sql_broadcast(cli *c, const char *v)
{
	if (!strcmp(v, "0")) {
		c->q.broadcast_limit = -1;
		return 0;
	}
	return pond_parse_size(v, &c->q.broadcast_limit) == POND_OK ? 0 : -1;
}

static int set_sql_explain(cli *c, const char *v)
{
	(void)v;
	c->explain = true;
	return 0;
}

static int set_resume(cli *c, const char *v)
{
	(void)v;
	c->o.resume = true;
	return 0;
}

static int set_speculate(cli *c, const char *v)
{
	(void)v;
	c->o.speculate = true;
	return 0;
}

static int set_keep_intermediates(cli *c, const char *v)
{
	(void)v;
	c->o.keep_intermediates = true;
	return 0;
}

/* Every flag: its name, whether it takes a value, whether `pond explain`
 * takes it too (only those that change the plan), its parser, and the
 * message for a value the parser refuses. */
#define RUN_SQL (CMD_RUN | CMD_SQL)
#define ALL (CMD_RUN | CMD_EXPLAIN | CMD_SQL)

static const struct flag {
	const char *name;
	bool value;
	unsigned cmds; /* the commands that take it */
	int (*set)(cli *c, const char *v);
	const char *bad;
} flags[] = {
	{ "-D", true, CMD_RUN | CMD_EXPLAIN, set_define, "-D takes NAME=VALUE, not '%s'" },
	{ "--job-dir", true, ALL, set_job_dir, NULL },
	{ "--seed", true, ALL, set_seed, "--seed takes a non-negative integer, not '%s'" },
	{ "-f", true, CMD_SQL, set_sql_file, NULL },
	{ "-t", true, CMD_SQL, set_sql_table, "-t takes NAME=PATHS, not '%s'" },
	{ "--tables", true, CMD_SQL, set_sql_tables, NULL },
	{ "-o", true, CMD_SQL, set_sql_output, "-o takes a directory, not '%s'" },
	{ "--format", true, CMD_SQL, set_sql_format, "--format takes parquet or csv, not '%s'" },
	{ "--max-rows", true, CMD_SQL, set_sql_max_rows, "--max-rows takes a number from 1 to 1000000, not '%s'" },
	{ "--explain", false, CMD_SQL, set_sql_explain, NULL },
	{ "--broadcast-limit", true, CMD_SQL, set_sql_broadcast,
	  "--broadcast-limit takes a size such as 64MB, or 0 for none, not '%s'" },
	{ "-w", true, RUN_SQL, set_workers, "-w takes a number of workers from 1 to 4096, not '%s'" },
	{ "--threads", true, RUN_SQL, set_threads, "--threads takes a number from 1 to 1024, not '%s'" },
	{ "--max-attempts", true, RUN_SQL, set_max_attempts, "--max-attempts takes a number from 1 to 100, not '%s'" },
	{ "--memory-limit", true, RUN_SQL, set_memory_limit,
	  "--memory-limit takes a size such as 4GB or 512MiB, not '%s'" },
	{ "--progress", true, RUN_SQL, set_progress, "--progress takes auto, plain or none, not '%s'" },
	{ "--task-timeout", true, RUN_SQL, set_task_timeout, "--task-timeout takes a number of seconds > 0, not '%s'" },
	{ "--inject-faults", true, RUN_SQL, set_inject_faults,
	  "--inject-faults takes P[,SEED] with 0 <= P <= 1, not '%s'" },
	{ "--report", true, RUN_SQL, set_report, "--report takes the path of an HTML file to write, not '%s'" },
	{ "--resume", false, RUN_SQL, set_resume, NULL },
	{ "--speculate", false, RUN_SQL, set_speculate, NULL },
	{ "--keep-intermediates", false, RUN_SQL, set_keep_intermediates, NULL },
};

static const struct flag *find_flag(const char *name, command cmd)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(name, flags[i].name) && (flags[i].cmds & cmd))
			return &flags[i];
	return NULL;
}

/* Fills c from argv. 0 to go on; 1 when help was printed; 2 after a usage
 * error (printed). */
static int parse_args(cli *c, int argc, char **argv, const char *usage)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct flag *f = find_flag(a, c->cmd);
		if (!f && c->cmd != CMD_SQL && !strncmp(a, "-D", 2) && a[2]) { /* -DNAME=VALUE */
			if (!strchr(a + 2, '='))
				return usage_error("-D takes NAME=VALUE, not '%s'", a + 2, usage);
			c->defines[c->o.ndefines++] = a + 2;
		} else if (f) {
			const char *v = f->value ? argv[i + 1] : NULL;
			if (f->value && i + 1 >= argc)
				return usage_error("%s needs a value", a, usage);
			i += f->value;
			if (f->set(c, v))
				return usage_error(f->bad, v, usage);
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 1;
		} else if (a[0] == '-' && a[1]) {
			return usage_error("unknown option '%s'", a, usage);
		} else if (!c->script) {
			c->script = a;
		} else {
			return usage_error(c->cmd == CMD_SQL ? "unexpected argument '%s' (one query at a time)"
							     : "unexpected argument '%s' (one script at a time)",
					   a, usage);
		}
	}
	if (c->cmd == CMD_SQL && !c->script == !c->q.file)
		return usage_error("%s",
				   c->script ? "give the query or -f FILE.sql, not both" : "missing the QUERY to run",
				   usage);
	if (!c->script && c->cmd != CMD_SQL)
		return usage_error("%s", "missing the SCRIPT to run", usage);
	c->o.defines = c->defines;
	return 0;
}

/* ---- commands ----------------------------------------------------------- */

/* After an interrupted run: die of the same signal, so that a calling
 * shell sees an interrupted command (exit 128+signal). */
static void die_of_signal(void)
{
	fflush(NULL);
	signal(got_signal, SIG_DFL);
	raise(got_signal);
}

static int cmd_run(int argc, char **argv, bool explain)
{
	const char *usage = explain ? usage_explain : usage_run;
	cli c = { .defines = calloc((size_t)argc + 1, sizeof(char *)), .cmd = explain ? CMD_EXPLAIN : CMD_RUN };
	pond_session *s = NULL;
	pond_status st = POND_OK;
	bool worker = false;
	int code;

	pond_options_init(&c.o);
	code = parse_args(&c, argc, argv, usage);
	if (code) {
		free(c.defines);
		return code == 1 ? 0 : code;
	}
	pond_session_new(&c.o, &s);
	if (!explain)
		st = pond_mpi_join(s, &worker); /* under mpirun/srun; no-op otherwise */
	if (!explain && st == POND_OK && !worker) {
		catch_signals();
		st = pond_start_workers(s); /* they open DuckDB while we plan */
	}
	if (st == POND_OK && !worker)
		st = pond_load_script(s, c.script);
	if (st == POND_OK && !worker)
		st = explain ? pond_explain(s, stdout) : pond_run(s);
	if (st != POND_OK)
		fprintf(stderr, "pond: %s\n", pond_errmsg(s));
	pond_session_free(s); /* under MPI: releases the worker ranks */
	free(c.defines);
	if (st == POND_EINTR && got_signal)
		die_of_signal();
	return status_exit(st);
}

/* pond sql QUERY | -f FILE.sql [...]: like pond run (or, with --explain,
 * pond explain) on a query instead of a script. */
static int cmd_sql(int argc, char **argv)
{
	cli c = { .defines = calloc((size_t)argc + 1, sizeof(char *)),
		  .tables = calloc((size_t)argc + 1, sizeof(char *)),
		  .cmd = CMD_SQL };
	pond_session *s = NULL;
	pond_status st = POND_OK;
	bool worker = false;
	int code;

	pond_options_init(&c.o);
	code = parse_args(&c, argc, argv, usage_sql);
	if (code) {
		free(c.defines);
		free(c.tables);
		return code == 1 ? 0 : code;
	}
	c.q.query = c.script;
	c.q.tables = c.tables;
	pond_session_new(&c.o, &s);
	if (!c.explain)
		st = pond_mpi_join(s, &worker); /* under mpirun/srun; no-op otherwise */
	if (!c.explain && st == POND_OK && !worker) {
		catch_signals();
		st = pond_start_workers(s); /* they open DuckDB while we plan */
	}
	if (st == POND_OK && !worker)
		st = pond_load_sql(s, &c.q);
	if (st == POND_OK && !worker)
		st = c.explain ? pond_explain(s, stdout) : pond_run(s);
	if (st != POND_OK)
		fprintf(stderr, "pond: %s\n", pond_errmsg(s));
	pond_session_free(s);
	free(c.defines);
	free(c.tables);
	if (st == POND_EINTR && got_signal)
		die_of_signal();
	return status_exit(st);
}

/* pond report JOBDIR [-o FILE.html] */
static int cmd_report(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL, *written = NULL;
	pond_options o;
	pond_session *s = NULL;
	pond_status st;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_report, stdout);
			return 0;
		}
		if (!strcmp(a, "-o")) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", a, usage_report);
			out = argv[++i];
			continue;
		}
		if (a[0] == '-' && a[1])
			return usage_error("unknown option '%s'", a, usage_report);
		if (dir)
			return usage_error("unexpected argument '%s' (one job directory)", a, usage_report);
		dir = a;
	}
	if (!dir)
		return usage_error("%s", "missing the JOBDIR to report on", usage_report);
	pond_options_init(&o);
	pond_session_new(&o, &s);
	st = pond_report(s, dir, out, &written);
	if (st == POND_OK)
		printf("%s\n", written);
	else
		fprintf(stderr, "pond: %s\n", pond_errmsg(s));
	pond_session_free(s);
	return status_exit(st);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2, false);
	if (!strcmp(cmd, "explain"))
		return cmd_run(argc - 2, argv + 2, true);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 2, argv + 2);
	if (!strcmp(cmd, "sql"))
		return cmd_sql(argc - 2, argv + 2);
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
		else if (!strcmp(topic, "report"))
			fputs(usage_report, stdout);
		else if (!strcmp(topic, "sql"))
			fputs(usage_sql, stdout);
		else
			return usage_error("no help for '%s'", topic, usage_main);
		return 0;
	}
	return usage_error("unknown command '%s'", cmd, usage_main);
}
