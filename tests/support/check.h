/*
 * Checks for the plain test programs that cannot use Criterion (the TSan
 * stress runs): a failed CHECK prints where and why, counts the failure and
 * returns from the scenario; main() exits nonzero when `failures` is not 0.
 */
#ifndef MEMGAUGE_TEST_CHECK_H
#define MEMGAUGE_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#endif
