/*
 * scheduler: one scheduler instance (docs/ARCHITECTURE.md §3): connects, loads the
 * workers table and the alert rules, and runs the transactional loop.
 */
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include <stdatomic.h>
#include <signal.h>

#include "fc_err.h"
#include "sched_config.h"

struct scheduler;

/* Connects. config must outlive the scheduler. NULL with err set. */
struct scheduler *scheduler_new(const struct sched_config *config, struct fc_err *err);

/*
 * Runs until *stop is set (0: the open batch committed, the group left) or a
 * fatal error (-1 with err set, e.g. fenced).
 */
int scheduler_run(struct scheduler *s, atomic_int *stop, struct fc_err *err);

/* NULL is a no-op. */
void scheduler_destroy(struct scheduler *s);

#endif
