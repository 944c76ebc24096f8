/*
 * What the test suites would otherwise each write again: clocks, sleeping,
 * waiting for a condition with a deadline, temporary directories, small
 * files, pipes, and child processes reaped within a deadline.
 *
 * libc only, no Criterion: the plain stress programs (built under TSan,
 * where Criterion cannot start) link it too. Every function reports failure
 * as a value (-1 with errno, or 0 for "did not happen in time") and the test
 * asserts on it, so a failure names the test's own expectation.
 */
#ifndef MEMGAUGE_TEST_SUPPORT_H
#define MEMGAUGE_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- time (wait.c) --------------------------------------------------------- */

uint64_t mg_mono_ns(void); /* CLOCK_MONOTONIC */
uint64_t mg_mono_ms(void);
uint64_t mg_wall_ns(void); /* CLOCK_REALTIME: comparable with the SDK's wall times */

/* Sleeps the whole time, resuming after a signal. */
void mg_sleep_us(uint64_t us);
void mg_sleep_ms(unsigned ms);

/* How often mg_wait_until looks. */
#define MG_POLL_MS 2u

/* Returns 1 as soon as pred(arg) is nonzero, 0 if it still is not after
 * deadline_ms (it is asked once more at the deadline). Polls every
 * MG_POLL_MS; pred may be called from this thread only. */
typedef int (*mg_pred_fn)(void *arg);
int mg_wait_until(mg_pred_fn pred, void *arg, unsigned deadline_ms);

/* ---- files (files.c) ---------------------------------------------------------- */

/* Makes a fresh directory `parent/memgauge-tag-XXXXXX` into out. parent is
 * "/tmp" for scratch, "/var/tmp" where a real disk file system matters. */
int mg_temp_dir(char *out, size_t cap, const char *parent, const char *tag);

/* Removes every entry below `dir` (files and directories), keeping `dir`. */
int mg_clear_dir(const char *dir);

/* Removes `dir` and everything below it; a missing `dir` is no error. */
int mg_remove_tree(const char *dir);

/* `printf '%s' text > path`: creates a plain file, writes an existing
 * control file in /proc or cgroupfs. errno is that of the failing call. */
int mg_write_text(const char *path, const char *text);

/* The whole file in a heap buffer (the caller frees it), NUL-terminated, its
 * length in *len. Reads to EOF: /proc and cgroup files report size 0. NULL
 * with errno set when it cannot be opened. */
unsigned char *mg_read_all(const char *path, size_t *len);

/* A text file into buf, truncated to cap - 1 bytes; -1 and "" if unreadable. */
int mg_read_text(const char *path, char *buf, size_t cap);

/* All of len bytes, resuming after EINTR and short transfers; -1 at EOF or
 * an error. */
int mg_write_full(int fd, const void *buf, size_t len);
int mg_read_full(int fd, void *buf, size_t len);

/* ---- child processes (child.c) ------------------------------------------------ */

/* A test's child that has not ended within this is stuck: generous enough
 * for one that fills a memory cgroup on a loaded machine. */
#define MG_CHILD_DEADLINE_MS 120000u

/* Reaps `pid` into *status within deadline_ms. Returns 0; 1 when it was
 * still running at the deadline: then it is SIGKILLed and reaped (so no
 * child outlives the test) and *status says so; -1 with errno when waitpid
 * fails. */
int mg_wait_child(pid_t pid, unsigned deadline_ms, int *status);

/* A wait status as words: "exit 3", "signal 9 (Killed)". Returns out. */
const char *mg_status_text(int status, char *out, size_t cap);

#endif
