/* physical.h — the physical plan: stages of tasks cut at every repartition
 * and gather, each task a self-contained description (plan/task.h: views
 * to create, one fused SQL query, where to write). Built by physical.c
 * from the logical plan; run by src/exec; recorded as plan.json in the job
 * directory (plan/task_codec.c). */
#ifndef POND_PLAN_PHYSICAL_H
#define POND_PLAN_PHYSICAL_H

#include <stdint.h>
#include <stdio.h>

#include "plan/logical.h"
#include "plan/task.h"
#include "util/err.h"

/* An input file as it was when the plan was made: --resume refuses a
 * job whose inputs changed since. */
typedef struct {
	char *path;
	int64_t size;     /* -1 if it could not be read */
	int64_t mtime_ns; /* -1 if it could not be read */
} plan_input;

void plan_inputs_free(plan_input *v, size_t n);

typedef struct {
	stage **stages;
	size_t nstages;
	char *job_dir;
	uint64_t seed;
	plan_input *inputs; /* every input file */
	size_t ninputs;
} pplan;

typedef struct {
	const char *job_dir; /* absolute */
	uint64_t seed;
} plan_opts;

int pplan_build(const lplan *lp, const plan_opts *o, pplan **out, pond_err *err);
void pplan_free(pplan *p); /* accepts NULL */
void pplan_explain(const lplan *lp, const pplan *p, FILE *out);

/* Where a sink's committed task outputs wait for publishing:
 * <parent>/.<name>.pond-staging-<8 hex of the job dir's real path>, on the
 * output's file system and owned by one job directory (two jobs writing
 * one output never share it). Caller frees. */
char *pplan_staging_dir(const char *job_dir, const char *out_dir);

#endif
