/*
 * it_proc: runs a command under test (the fleetcap binary) with its stdout
 * and stderr captured, waits for a line on stderr, signals it, and collects
 * its output and exit status.
 */
#ifndef IT_PROC_H
#define IT_PROC_H

#include <sys/types.h>

struct it_proc {
	pid_t pid;
	int out_fd, err_fd;
	char *out, *err; /* everything read so far, NUL-terminated */
	size_t out_len, err_len;
	int status; /* exit code after it_proc_wait, 128 + signal if killed */
};

/* Starts argv[0] with argv (NULL-terminated). 0 or -1. */
int it_proc_start(struct it_proc *proc, char *const argv[]);

/*
 * Reads stderr until it holds text or the process ends (or timeout_s passes,
 * a guard against a hang, not a performance bound). 0 when found.
 */
int it_proc_wait_stderr(struct it_proc *proc, const char *text, int timeout_s);

/* Reads both streams to EOF and reaps the process; returns its status. */
int it_proc_wait(struct it_proc *proc);

void it_proc_free(struct it_proc *proc);

#endif
