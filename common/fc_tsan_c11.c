/*
 * fc_tsan_c11: C11 threads on top of pthreads, for ThreadSanitizer builds
 * only (FLEETCAP_SANITIZE=thread links it into every program).
 *
 * librdkafka creates its threads with C11 thrd_create() and locks with
 * mtx_lock()/cnd_wait(). glibc implements these by calling its pthread code
 * internally, past ThreadSanitizer's interceptors: a thread made that way has
 * no sanitizer state (its first malloc crashes), and its locks are invisible,
 * so every hand-over between librdkafka's threads and ours would read as a
 * race. Defined here, in the program, these functions take precedence over
 * glibc's for librdkafka too, and call the intercepted pthread functions.
 * glibc lays mtx_t and cnd_t out as pthread_mutex_t and pthread_cond_t.
 *
 * librdkafka publishes the objects holding its mutexes to other threads with
 * atomics the sanitizer cannot see (the library is not instrumented), so the
 * initialisation of a mutex or condition is released on its address and
 * acquired by every later use: whoever uses one got it after it was made.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

/* ThreadSanitizer's annotations (its runtime is always linked here). */
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

_Static_assert(sizeof(mtx_t) >= sizeof(pthread_mutex_t), "mtx_t holds a pthread mutex");
_Static_assert(sizeof(cnd_t) >= sizeof(pthread_cond_t), "cnd_t holds a pthread condition");

static int result(int rc)
{
	if (rc == 0)
		return thrd_success;
	if (rc == ETIMEDOUT)
		return thrd_timedout;
	if (rc == EBUSY)
		return thrd_busy;
	if (rc == ENOMEM || rc == EAGAIN)
		return thrd_nomem;
	return thrd_error;
}

struct start {
	thrd_start_t func;
	void *arg;
};

static void *run(void *opaque)
{
	struct start s = *(struct start *)opaque;

	free(opaque);
	return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
	struct start *s = malloc(sizeof(*s));
	pthread_t t;

	if (!s)
		return thrd_nomem;
	s->func = func;
	s->arg = arg;
	int rc = pthread_create(&t, NULL, run, s);
	if (rc != 0) {
		free(s);
		return result(rc);
	}
	*thr = (thrd_t)t;
	return thrd_success;
}

int thrd_join(thrd_t thr, int *res)
{
	void *value;
	int rc = pthread_join((pthread_t)thr, &value);

	if (rc == 0 && res)
		*res = (int)(intptr_t)value;
	return result(rc);
}

int thrd_detach(thrd_t thr)
{
	return result(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t attr;

	pthread_mutexattr_init(&attr);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	int rc = pthread_mutex_init((pthread_mutex_t *)m, &attr);
	pthread_mutexattr_destroy(&attr);
	__tsan_release(m);
	return result(rc);
}

int mtx_lock(mtx_t *m)
{
	__tsan_acquire(m);
	return result(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
	__tsan_acquire(m);
	return result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict until)
{
	__tsan_acquire(m);
	return result(pthread_mutex_timedlock((pthread_mutex_t *)m, until));
}

int mtx_unlock(mtx_t *m)
{
	__tsan_acquire(m);
	return result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
	__tsan_acquire(m);
	pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
	int rc = pthread_cond_init((pthread_cond_t *)c, NULL);
	__tsan_release(c);
	return result(rc);
}

int cnd_signal(cnd_t *c)
{
	__tsan_acquire(c);
	return result(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
	__tsan_acquire(c);
	return result(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
	__tsan_acquire(c);
	return result(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict until)
{
	__tsan_acquire(c);
	return result(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, until));
}

void cnd_destroy(cnd_t *c)
{
	__tsan_acquire(c);
	pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*func)(void))
{
	pthread_once((pthread_once_t *)flag, func);
}
