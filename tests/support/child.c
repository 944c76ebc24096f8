/* Child processes reaped within a deadline. See support.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

typedef struct reap_s {
    pid_t pid;
    int *status;
    int done; /* 1 reaped, -1 waitpid failed */
} reap_t;

static int reaped(void *arg)
{
    reap_t *r = arg;
    pid_t got = waitpid(r->pid, r->status, WNOHANG);
    if (got == r->pid)
        r->done = 1;
    else if (got < 0 && errno != EINTR)
        r->done = -1;
    return r->done != 0;
}

int mg_wait_child(pid_t pid, unsigned deadline_ms, int *status)
{
    reap_t r = {pid, status, 0};
    *status = 0;
    if (mg_wait_until(reaped, &r, deadline_ms))
        return r.done == 1 ? 0 : -1;
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return 1;
}

const char *mg_status_text(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, cap, "status 0x%x", status);
    return out;
}
