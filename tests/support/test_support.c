/*
 * The shared test support on real processes and files: a wait ends when its
 * condition holds or at its deadline, a stuck child is killed and reaped, a
 * tree is removed whole, and files the kernel reports as empty are read to
 * the end.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/scratch.h"
#include "support/support.h"

TestSuite(support, .init = mg_scratch_init, .fini = mg_scratch_fini);

static int count_to_five(void *arg)
{
    int *calls = arg;
    return ++*calls >= 5;
}

static int never(void *arg)
{
    int *calls = arg;
    ++*calls;
    return 0;
}

Test(support, wait_until_returns_as_soon_as_the_condition_holds)
{
    int calls = 0;
    cr_assert_eq(mg_wait_until(count_to_five, &calls, 60000), 1);
    cr_assert_eq(calls, 5, "asked %d times for a condition true at the fifth", calls);
}

Test(support, wait_until_says_no_at_the_deadline_after_asking_once_more)
{
    int calls = 0;
    cr_assert_eq(mg_wait_until(never, &calls, 20), 0);
    cr_assert_geq(calls, 2, "asked %d times: at least at the start and at the deadline", calls);
}

Test(support, a_child_is_reaped_with_its_exit_status)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(7);
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status 0x%x", status);
    char text[64];
    cr_assert_str_eq(mg_status_text(status, text, sizeof text), "exit 7");
    /* reaped: no such child any more */
    cr_assert_eq(waitpid(pid, &status, WNOHANG), -1);
    cr_assert_eq(errno, ECHILD);
}

Test(support, a_child_still_running_at_the_deadline_is_killed_and_reaped)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        for (;;)
            pause();
    }
    int status;
    cr_assert_eq(mg_wait_child(pid, 50, &status), 1);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status 0x%x", status);
    cr_assert_eq(waitpid(pid, &status, WNOHANG), -1);
    cr_assert_eq(errno, ECHILD);
}

Test(support, waiting_for_a_process_that_is_no_child_is_an_error)
{
    int status;
    cr_assert_eq(mg_wait_child(getppid(), 1000, &status), -1);
    cr_assert_eq(errno, ECHILD);
}

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", mg_scratch, rel);
    cr_assert_eq(mg_write_text(path, text), 0, "%s: %s", path, strerror(errno));
}

Test(support, clear_dir_empties_a_tree_and_keeps_its_top)
{
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a", mg_scratch);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/a/b", mg_scratch);
    cr_assert_eq(mkdir(sub, 0755), 0);
    put("one", "1");
    put("a/two", "2");
    put("a/b/three", "3");
    cr_assert_eq(mg_clear_dir(mg_scratch), 0);
    struct stat st;
    cr_assert_eq(stat(mg_scratch, &st), 0, "the directory itself went too");
    cr_assert_eq(rmdir(mg_scratch), 0, "not empty: %s", strerror(errno));
    cr_assert_eq(mkdir(mg_scratch, 0700), 0); /* for the suite's .fini */
}

Test(support, remove_tree_removes_all_and_a_missing_tree_is_no_error)
{
    char top[256];
    snprintf(top, sizeof top, "%s/top", mg_scratch);
    cr_assert_eq(mkdir(top, 0755), 0);
    put("top/file", "x");
    cr_assert_eq(mg_remove_tree(top), 0);
    cr_assert_eq(access(top, F_OK), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(mg_remove_tree(top), 0);
}

Test(support, files_written_are_read_back_whole_and_truncated_to_the_buffer)
{
    static char big[20000];
    memset(big, 'q', sizeof big - 1);
    put("big", big);
    char path[256];
    snprintf(path, sizeof path, "%s/big", mg_scratch);
    size_t len;
    unsigned char *all = mg_read_all(path, &len);
    cr_assert_not_null(all);
    cr_assert_eq(len, sizeof big - 1);
    cr_assert_eq(all[len], '\0');
    cr_assert_eq(memcmp(all, big, len), 0);
    free(all);
    char small[8];
    cr_assert_eq(mg_read_text(path, small, sizeof small), 0);
    cr_assert_str_eq(small, "qqqqqqq");
}

Test(support, a_proc_file_of_size_zero_is_read_to_its_end)
{
    struct stat st;
    cr_assert_eq(stat("/proc/self/status", &st), 0);
    cr_assert_eq(st.st_size, 0, "procfs reports size 0: the reader may not trust it");
    size_t len;
    unsigned char *all = mg_read_all("/proc/self/status", &len);
    cr_assert_not_null(all);
    cr_assert_gt(len, 0);
    cr_assert_not_null(strstr((char *)all, "\nVmRSS:"), "read only %zu bytes", len);
    free(all);
}

Test(support, a_missing_file_reads_as_an_error_and_empty_text)
{
    char text[16] = "stale";
    cr_assert_eq(mg_read_text("/nonexistent/memgauge", text, sizeof text), -1);
    cr_assert_eq(errno, ENOENT);
    cr_assert_str_eq(text, "");
    cr_assert_eq(mg_write_text("/nonexistent/memgauge", "x"), -1);
    cr_assert_eq(errno, ENOENT);
}

Test(support, whole_writes_and_reads_cross_a_pipe_larger_than_its_buffer)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    static unsigned char out[256 * 1024], in[sizeof out];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 31);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        _exit(mg_write_full(fds[1], out, sizeof out) == 0 ? 0 : 1);
    }
    close(fds[1]);
    cr_assert_eq(mg_read_full(fds[0], in, sizeof in), 0);
    cr_assert_eq(memcmp(in, out, sizeof in), 0);
    char one;
    cr_assert_eq(mg_read_full(fds[0], &one, 1), -1, "more than was written");
    close(fds[0]);
    int status;
    cr_assert_eq(mg_wait_child(pid, MG_CHILD_DEADLINE_MS, &status), 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
