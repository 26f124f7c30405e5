/* pyrun.h — the Python step of a task whose output is OUT_PYTHON: runs
 * the runner script (python/pond/_runner.py) on the task's input rows in
 * a child process of the task child. engine.c writes the input and reads
 * the output; this file only starts Python and says how it ended. */
#ifndef POND_ENGINE_PYRUN_H
#define POND_ENGINE_PYRUN_H

#include "plan/task.h"
#include "util/err.h"
#include "util/errclass.h"

/* Runs `PYTHON runner pickle in out` (PYTHON: $POND_PYTHON, else
 * /usr/bin/python3) with its stdout and stderr in dir/py.stderr, and
 * waits for it. 0 when it exited 0. Else -1 with err (POND_ETASK) holding
 * what it printed (the traceback of the user's exception) and *cls: a
 * user exception (exit status 1) is EC_INPUT, the same at every attempt;
 * a Python that could not start or died of a signal is EC_INTERNAL. */
int pyrun(const task_output *o, const char *in, const char *out, const char *dir, error_class *cls, pond_err *err);

#endif
