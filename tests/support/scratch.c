/* A scratch directory per test, for Criterion suites. See scratch.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "scratch.h"
#include "support.h"

char mg_scratch[64];

void mg_scratch_init(void)
{
    cr_assert_eq(mg_temp_dir(mg_scratch, sizeof mg_scratch, "/tmp", "test"), 0, "mkdtemp: %s",
                 strerror(errno));
}

void mg_scratch_fini(void)
{
    cr_assert_eq(mg_remove_tree(mg_scratch), 0, "%s: %s", mg_scratch, strerror(errno));
}
