/* interp.h — turns a parsed script into a logical plan: looks up each
 * function, binds and checks its arguments, resolves dataset names and
 * expands input paths. Called by the session (src/exec/session.c). */
#ifndef POND_SCRIPT_INTERP_H
#define POND_SCRIPT_INTERP_H

#include "plan/logical.h"
#include "script/ast.h"
#include "util/err.h"

/* Appends the script's datasets and actions to plan. Errors are
 * "file:line:col: message": POND_EUSAGE for script mistakes, POND_EINPUT for
 * input paths that match nothing or cannot be walked. */
int interp_script(const script *s, lplan *plan, pond_err *err);

#endif
