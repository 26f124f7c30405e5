/* clock.h — the two clocks pond reads, in seconds as doubles: a
 * monotonic one for durations and deadlines, and the wall clock for the
 * times written to the journal. */
#ifndef POND_UTIL_CLOCK_H
#define POND_UTIL_CLOCK_H

double clock_mono(void); /* CLOCK_MONOTONIC */
double clock_unix(void); /* seconds since the epoch */

#endif
