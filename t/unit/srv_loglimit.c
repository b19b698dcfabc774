/* t/unit/srv_loglimit.c: each kind of log line at most once a second (server/loglimit.c). */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loglimit.h"

static int fds[2];
static struct srv_loglimit l;

static void setup(void)
{
	cr_assert_eq(pipe(fds), 0);
	cr_assert_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	srv_loglimit_init(&l, fds[1], "ama-server");
}

static void teardown(void)
{
	close(fds[0]);
	close(fds[1]);
}

TestSuite(loglimit, .init = setup, .fini = teardown);

/* What was written since the last call. */
static const char *written(void)
{
	static char buf[65536];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static const char *const A = "kind a", *const B = "kind b";

Test(loglimit, a_line_is_written_once_then_counted)
{
	int i;

	cr_assert_eq(srv_loglimit_say(&l, A, "Hit a limit 1\n", 10.0), 0);
	cr_assert_str_eq(written(), "ama-server: Hit a limit 1\n");
	for (i = 0; i < 1000; i++)
		cr_assert_eq(srv_loglimit_say(&l, A, "Hit a limit 2",
					      10.0 + i / 2000.0),
			     (unsigned)i + 1);
	cr_assert_str_eq(written(), "");
	/* a second later the next one says them all */
	cr_assert_eq(srv_loglimit_say(&l, A, "Hit a limit 3", 11.2), 0);
	cr_assert_str_eq(written(), "ama-server: 1001 more times in 1 s: Hit "
			 "a limit 3\n");
	/* and a quiet kind's count is said by the tick, once */
	cr_assert_eq(srv_loglimit_say(&l, A, "Hit a limit 4", 11.5), 1);
	srv_loglimit_tick(&l, 12.0);
	cr_assert_str_eq(written(), "");
	srv_loglimit_tick(&l, 12.3);
	cr_assert_str_eq(written(), "ama-server: 1 more times in 1 s: Hit a "
			 "limit 4\n");
	srv_loglimit_tick(&l, 20.0);
	cr_assert_str_eq(written(), "");
	srv_loglimit_release(&l, 30.0);
}

Test(loglimit, kinds_are_counted_apart)
{
	cr_assert_eq(srv_loglimit_say(&l, A, "a", 5.0), 0);
	cr_assert_eq(srv_loglimit_say(&l, B, "b", 5.1), 0);
	cr_assert_eq(srv_loglimit_say(&l, A, "a", 5.2), 1);
	cr_assert_eq(srv_loglimit_say(&l, B, "b", 5.3), 1);
	cr_assert_eq(srv_loglimit_say(&l, B, "b", 5.4), 2);
	cr_assert_str_eq(written(), "ama-server: a\nama-server: b\n");
	srv_loglimit_release(&l, 9.0);
	cr_assert_str_eq(written(), "ama-server: 1 more times in 4 s: a\n"
			 "ama-server: 2 more times in 4 s: b\n");
}

Test(loglimit, a_flood_of_new_kinds_keeps_every_count)
{
	static const char keys[SRV_LOG_KINDS + 1];
	char line[32];
	int i;

	/* each kind twice: written, then held */
	for (i = 0; i <= SRV_LOG_KINDS; i++) {
		snprintf(line, sizeof(line), "k%d", i);
		srv_loglimit_say(&l, &keys[i], line, 1.0 + i / 100.0);
		srv_loglimit_say(&l, &keys[i], line, 1.0 + i / 100.0);
	}
	/* the 17th took the slot of the first, whose count came out */
	cr_assert(strstr(written(), "ama-server: k16\n"));
	srv_loglimit_release(&l, 3.0);
	cr_assert(strstr(written(), "ama-server: 1 more times in 2 s: k16\n"));
}
