/* testpoint.h — named points where the test suite can stop or kill pond
 * deterministically, without racing a running process (tests/faults,
 * tests/e2e). A no-op unless one of these is set:
 *   POND_TEST_KILL_AT=NAME[:N]  SIGKILL this process the N-th time (default
 *                               the first) it reaches point NAME;
 *   POND_TEST_STOP_AT=NAME[:N]  SIGSTOP it there instead, after writing its
 *                               pid to $POND_TEST_STOP_FILE (if set), so a
 *                               test can act while pond waits, then SIGCONT;
 *   POND_TEST_TRACE=FILE        appends each point's name to FILE as it is
 *                               reached (to list the points a run passes).
 * Point names are listed where they are called (grep test_point). Per task
 * attempt, two points name the task and the attempt number:
 *   worker-<task id>.a<N>       the worker that was sent attempt N of the
 *                               task, before it hands it to its task process
 *                               (stopped there, it is a silent busy worker);
 *   child-<task id>.a<N>        the task process, as it starts the attempt
 *                               (stopped there, a hung task).
 * e.g. POND_TEST_STOP_AT=worker-s00-shuffle-t00000.a1 */
#ifndef POND_UTIL_TESTPOINT_H
#define POND_UTIL_TESTPOINT_H

void test_point(const char *name);

/* test_point() without the trace line: for a process that outlives pond
 * (the background removal of intermediates), whose late write into the
 * trace file no test can wait for (it would recreate a file in a
 * directory the test is removing). */
void test_point_untraced(const char *name);

/* test_point() of a formatted name; nothing is formatted unless a hook is
 * set. */
void test_pointf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
