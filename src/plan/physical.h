/* physical.h — the physical plan: stages of tasks cut at every repartition
 * and gather, each task a self-contained JSON description (views to create,
 * one fused SQL query, where to write). Built by physical.c from the logical
 * plan; run by src/exec; recorded as plan.json in the job directory. */
#ifndef POND_PLAN_PHYSICAL_H
#define POND_PLAN_PHYSICAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/logical.h"
#include "util/err.h"

typedef enum {
	ST_MAP,     /* materialise partitions as part.parquet */
	ST_SHUFFLE, /* producer: one bucket directory per destination */
	ST_SAMPLE,  /* range shuffle: sample keys */
	ST_SPLITS,  /* range shuffle: choose n-1 split points */
	ST_GATHER,  /* sql()/limit(): one task over whole datasets */
	ST_SINK,    /* write_parquet / write_csv into the staging dir */
	ST_SHOW,    /* show(): a text table */
	ST_COUNT,   /* count(): a number */
} stage_kind;

typedef struct {
	int id;
	stage_kind kind;
	char *name;          /* "s03-shuffle" */
	char *step;          /* "job.pond:5 repartition(hash_by=k)" */
	int *deps;           /* stage ids that must finish first */
	size_t ndeps;
	json_t **tasks;      /* owned */
	size_t ntasks;
	const action *act;   /* for sinks, show, count */
} stage;

typedef struct {
	stage **stages;
	size_t nstages;
	char *job_dir;
	uint64_t seed;
	json_t *inputs;      /* [{path, size, mtime}] of every input file */
} pplan;

typedef struct {
	const char *job_dir; /* absolute */
	uint64_t seed;
} plan_opts;

int pplan_build(const lplan *lp, const plan_opts *o, pplan **out, pond_err *err);
void pplan_free(pplan *p);             /* accepts NULL */
json_t *pplan_to_json(const pplan *p); /* plan.json; new reference */
void pplan_explain(const lplan *lp, const pplan *p, FILE *out);

/* Where a sink's committed task outputs wait for publishing:
 * <parent>/.<name>.pond-staging-<8 hex of the job dir's real path>, on the
 * output's file system and owned by one job directory (two jobs writing
 * one output never share it). Caller frees. */
char *pplan_staging_dir(const char *job_dir, const char *out_dir);

const char *stage_kind_name(stage_kind k);

#endif
