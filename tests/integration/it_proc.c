/* it_proc: see it_proc.h. */
#include "it_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int it_proc_start(struct it_proc *p, char *const argv[])
{
	int out[2], err[2];

	memset(p, 0, sizeof(*p));
	p->out = calloc(1, 1);
	p->err = calloc(1, 1);
	if (!p->out || !p->err || pipe(out) != 0)
		return -1;
	if (pipe(err) != 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(err[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out_fd = out[0];
	p->err_fd = err[0];
	return 0;
}

/* Appends what fd has to *buf; returns 0 at EOF, 1 when more may come. */
static int drain_fd(int fd, char **buf, size_t *len)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	char *grown = realloc(*buf, *len + (size_t)n + 1);
	if (!grown)
		return 0;
	memcpy(grown + *len, chunk, (size_t)n);
	*len += (size_t)n;
	grown[*len] = '\0';
	*buf = grown;
	return 1;
}

static int pump(struct it_proc *p, int timeout_ms)
{
	struct pollfd fds[2] = {{.fd = p->out_fd, .events = POLLIN},
				{.fd = p->err_fd, .events = POLLIN}};
	int open_fds = 0;

	if (p->out_fd < 0)
		fds[0].fd = -1;
	if (p->err_fd < 0)
		fds[1].fd = -1;
	if (fds[0].fd < 0 && fds[1].fd < 0)
		return 0;
	if (poll(fds, 2, timeout_ms) < 0 && errno != EINTR)
		return 0;
	if (fds[0].revents && !drain_fd(p->out_fd, &p->out, &p->out_len)) {
		close(p->out_fd);
		p->out_fd = -1;
	}
	if (fds[1].revents && !drain_fd(p->err_fd, &p->err, &p->err_len)) {
		close(p->err_fd);
		p->err_fd = -1;
	}
	open_fds = (p->out_fd >= 0) + (p->err_fd >= 0);
	return open_fds;
}

int it_proc_wait_stderr(struct it_proc *p, const char *text, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;

	while (!strstr(p->err, text)) {
		if (time(NULL) > end || pump(p, 200) == 0)
			return strstr(p->err, text) ? 0 : -1;
	}
	return 0;
}

int it_proc_wait(struct it_proc *p)
{
	int status;

	while (pump(p, 1000) > 0)
		;
	if (waitpid(p->pid, &status, 0) < 0)
		return -1;
	p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return p->status;
}

void it_proc_free(struct it_proc *p)
{
	if (p->out_fd > 0)
		close(p->out_fd);
	if (p->err_fd > 0)
		close(p->err_fd);
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
}
