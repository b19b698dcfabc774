/* t/unit/tmpdir.h: a test's own temporary folder, for a suite's .init and .fini. */
#ifndef AMA_UNIT_TMPDIR_H
#define AMA_UNIT_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * The folder: each test runs in a process of its own, so each gets a
 * fresh one from make_dir() (TestSuite(..., .init = make_dir, .fini =
 * remove_dir)), removed with all it holds afterwards.
 */
static char dir[] = "/tmp/ama-unit-XXXXXX";

static void make_dir(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

#endif
