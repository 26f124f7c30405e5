/* internal.h — entry points of the session for pond's own tests (the
 * planner's golden tests, tests/test_plan_golden.c): not part of the
 * public API, not exported from the library. */
#ifndef POND_API_INTERNAL_H
#define POND_API_INTERNAL_H

#include "plan/physical.h"
#include "pond.h"

/* The physical plan pond_run would run for the loaded script, as
 * pond_explain prints it; free it with pplan_free. POND_EUSAGE when no
 * script is loaded. */
pond_status session_plan(pond_session *s, pplan **out);

#endif
