/*
 * A scratch directory for each test of a Criterion suite that names these
 * as its .init and .fini:
 *
 *     TestSuite(spool, .init = mg_scratch_init, .fini = mg_scratch_fini);
 *
 * made fresh under /tmp before each test and removed, with all it holds,
 * after it whatever the outcome. Criterion runs each test in its own
 * process, so one name serves every suite.
 */
#ifndef MEMGAUGE_TEST_SCRATCH_H
#define MEMGAUGE_TEST_SCRATCH_H

extern char mg_scratch[64];

void mg_scratch_init(void);
void mg_scratch_fini(void);

#endif
