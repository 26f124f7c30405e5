/* interp.h — turns a parsed script into a plan: looks up each function,
 * matches and checks its arguments where the script wrote them, resolves
 * dataset names, and builds each step with the public plan-building API
 * (include/pond.h: pond_read … pond_count). Called by pond_load_script
 * (src/api/session.c). */
#ifndef POND_SCRIPT_INTERP_H
#define POND_SCRIPT_INTERP_H

#include "pond.h"
#include "script/ast.h"
#include "util/err.h"

/* Adds the script's datasets and actions to the session's plan through
 * the pond_* calls; err is the session's error (pond_errmsg), where the
 * interpreter's own messages go too. Errors are "file:line:col: message":
 * POND_EUSAGE for script mistakes, POND_EINPUT for input paths that match
 * nothing or cannot be walked. */
int interp_script(const script *s, pond_session *ps, pond_err *err);

#endif
