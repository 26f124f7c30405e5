/* worker_main.c — pond_worker_main: reserved for transports that start
 * workers as separate programs (MPI ranks reach the worker loop through
 * their transport instead). */
#include <stdio.h>

#include "pond.h"

int pond_worker_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "pond: the __worker command is internal\n");
	return 2;
}
