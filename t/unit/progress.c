/* t/unit/progress.c: the progress line on stderr and human-readable sizes. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

TestSuite(human_bytes, .timeout = 30);
TestSuite(progress, .timeout = 30);

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)
#define PiB (1024 * TiB)

static void assert_human(double bytes, const char *want)
{
	char buf[32];

	/* at most the 16 bytes the header promises are written */
	memset(buf, 'X', sizeof(buf));
	ama_human_bytes(buf, bytes);
	cr_assert_str_eq(buf, want, "for %.1f bytes", bytes);
	cr_assert_eq(buf[16], 'X');
	cr_assert_eq(buf[31], 'X');
}

Test(human_bytes, bytes_below_a_kib_are_whole)
{
	assert_human(0, "0 B");
	assert_human(1, "1 B");
	assert_human(999, "999 B");
	assert_human(1023, "1023 B");
	/* a rate is a double: rounded to the byte */
	assert_human(0.4, "0 B");
	assert_human(12.6, "13 B");
}

Test(human_bytes, larger_sizes_have_one_decimal_and_a_binary_unit)
{
	assert_human(1024, "1.0 KiB");
	assert_human(1536, "1.5 KiB");
	assert_human(1126, "1.1 KiB");
	assert_human(10240, "10.0 KiB");
	assert_human(10 * MiB, "10.0 MiB");
	assert_human(1536 * KiB, "1.5 MiB");
	assert_human(1.5 * GiB, "1.5 GiB");
	assert_human(1000 * GiB, "1000.0 GiB");
	assert_human(TiB, "1.0 TiB");
	assert_human(5 * TiB + 512 * GiB, "5.5 TiB");
	assert_human(PiB, "1.0 PiB");
}

/* a figure that would round to 1024 is shown in the next unit */
Test(human_bytes, never_1024_of_a_unit)
{
	assert_human(1023.4, "1023 B");
	assert_human(1023.6, "1.0 KiB");
	assert_human(1048524, "1023.9 KiB");
	assert_human(1048575, "1.0 MiB");
	assert_human(GiB - 1, "1.0 GiB");
	assert_human(1023.96 * GiB, "1.0 TiB");
}

Test(human_bytes, pib_is_the_largest_unit)
{
	assert_human(1024 * PiB, "1024.0 PiB");
	assert_human(4096 * PiB, "4096.0 PiB");
	assert_human((double)UINT64_MAX, "16384.0 PiB");
}

/* fd 2 into a temporary file, until end_capture */
struct capture {
	FILE *f;
	int saved;
};

static void start_capture(struct capture *c)
{
	c->f = tmpfile();
	cr_assert_not_null(c->f);
	fflush(stderr);
	c->saved = dup(2);
	cr_assert_geq(c->saved, 0);
	cr_assert_eq(dup2(fileno(c->f), 2), 2);
}

/* fd 2 back as it was; what was written meanwhile, malloc'd */
static char *end_capture(struct capture *c)
{
	long n;
	char *s;

	fflush(stderr);
	cr_assert_eq(dup2(c->saved, 2), 2);
	close(c->saved);
	cr_assert_eq(fseek(c->f, 0, SEEK_END), 0);
	n = ftell(c->f);
	cr_assert_geq(n, 0);
	rewind(c->f);
	s = malloc((size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, c->f), (size_t)n);
	s[n] = '\0';
	fclose(c->f);
	return s;
}

/* replace every match of pattern in s (at most size bytes) with with */
static void replace_all(char *s, size_t size, const char *pattern,
			const char *with)
{
	char out[1024];
	regex_t re;
	regmatch_t m;
	const char *p = s;
	size_t len = 0;

	cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
	while (regexec(&re, p, 1, &m, p == s ? 0 : REG_NOTBOL) == 0) {
		len += (size_t)snprintf(out + len, sizeof(out) - len,
					"%.*s%s", (int)m.rm_so, p, with);
		cr_assert(len < sizeof(out));
		p += m.rm_eo;
	}
	len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", p);
	cr_assert(len < size);
	memcpy(s, out, len + 1);
	regfree(&re);
}

/*
 * The output with what depends on the clock masked, each part only when
 * it has its exact shape: the rate ("1.5 KiB/s" becomes "<rate>/s"), the
 * ETA ("ETA 12:05" becomes "ETA <eta>") and the seconds of the final line
 * (", 10.0 s" becomes ", <secs> s"). The counts and sizes stay as they are.
 */
static char *masked(char *s)
{
	size_t size = strlen(s) + 1;

	s = realloc(s, size + 256);
	size += 256;
	replace_all(s, size,
		    ", ([0-9]+ B|[0-9]+\\.[0-9] (KiB|MiB|GiB|TiB|PiB))/s",
		    ", <rate>/s");
	replace_all(s, size, ", ETA [0-9]+:[0-5][0-9]", ", ETA <eta>");
	replace_all(s, size, ", [0-9]+\\.[0-9] s", ", <secs> s");
	return s;
}

static void assert_output(char *got, const char *want)
{
	got = masked(got);
	cr_assert_str_eq(got, want);
	free(got);
}

/*
 * As if the job had begun ten seconds ago and the line was last drawn
 * then: the next update draws, with a rate above zero once a byte is done.
 */
static void ten_seconds_in(struct ama_progress *p)
{
	p->start = ama_now() - 10;
	p->last = p->start;
}

/*
 * As if the line had just been drawn; last is put in the future so that
 * no delay in scheduling the test can make a tenth of a second pass.
 */
static void just_drawn(struct ama_progress *p)
{
	p->last = ama_now() + 3600;
}

/* the \r at the start and the erase-to-end-of-line at the end */
#define LINE(s) "\r" s "\033[K"

Test(progress, counts_only_until_totals_are_known)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 3, 1536);
	assert_output(end_capture(&c),
		      LINE("hashing: 3 files, 1.5 KiB, <rate>/s"));
	cr_assert_eq(p.drawn, 1);
}

Test(progress, totals_add_the_eta)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "staging", 1);
	ama_progress_total(&p, 10, 10 * KiB);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 3, 5 * KiB);
	assert_output(end_capture(&c),
		      LINE("staging: 3/10 files, 5.0 KiB/10.0 KiB, <rate>/s, "
			   "ETA <eta>"));
}

Test(progress, no_rate_and_no_eta_before_the_first_byte)
{
	struct ama_progress p;
	struct capture c;
	char *got;

	ama_progress_init(&p, "hashing", 1);
	ama_progress_total(&p, 10, 10 * KiB);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 1, 0);
	/* exact: a rate of zero does not depend on the clock */
	got = end_capture(&c);
	cr_assert_str_eq(got, LINE("hashing: 1/10 files, 0 B/10.0 KiB, 0 B/s"));
	free(got);
}

Test(progress, no_eta_past_the_total)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	ama_progress_total(&p, 1, KiB);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 2, 2 * KiB);
	assert_output(end_capture(&c),
		      LINE("hashing: 2/1 files, 2.0 KiB/1.0 KiB, <rate>/s"));
}

Test(progress, a_file_total_alone_gives_no_eta)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	ama_progress_total(&p, 10, 0);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 4, 100);
	assert_output(end_capture(&c),
		      LINE("hashing: 4/10 files, 100 B, <rate>/s"));
}

Test(progress, large_counts_are_printed_whole)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	ama_progress_total(&p, UINT64_MAX, 6 * TiB);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 123456789012ULL, 5 * TiB);
	assert_output(end_capture(&c),
		      LINE("hashing: 123456789012/18446744073709551615 files, "
			   "5.0 TiB/6.0 TiB, <rate>/s, ETA <eta>"));
}

Test(progress, the_line_goes_to_stderr_only)
{
	struct ama_progress p;
	struct capture c;
	FILE *f = tmpfile();
	int saved = dup(1);
	long n;

	cr_assert_not_null(f);
	fflush(stdout);
	cr_assert_eq(dup2(fileno(f), 1), 1);
	ama_progress_init(&p, "hashing", 1);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 1, 1);
	just_drawn(&p);
	ama_progress_done(&p);
	assert_output(end_capture(&c),
		      LINE("hashing: 1 files, 1 B, <rate>/s")
		      LINE("hashing: 1 files, 1 B, <rate>/s, <secs> s") "\n");
	fflush(stdout);
	cr_assert_eq(dup2(saved, 1), 1);
	close(saved);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	fclose(f);
	cr_assert_eq(n, 0, "%ld bytes on stdout", n);
}

Test(progress, redrawn_at_most_ten_times_a_second)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 1, 100);
	just_drawn(&p);
	ama_progress_set(&p, 2, 200);
	ama_progress_add(&p, 1, 100);
	/* more than a tenth of a second later: the newest counts */
	p.last = ama_now() - 0.2;
	ama_progress_add(&p, 1, 100);
	assert_output(end_capture(&c),
		      LINE("hashing: 1 files, 100 B, <rate>/s")
		      LINE("hashing: 4 files, 400 B, <rate>/s"));
}

Test(progress, set_never_goes_back)
{
	struct ama_progress p;

	ama_progress_init(&p, "hashing", 0);
	ama_progress_set(&p, 5, 500);
	ama_progress_set(&p, 3, 100);
	cr_assert_eq(p.files, 5);
	cr_assert_eq(p.bytes, 500);
	/* each count on its own */
	ama_progress_set(&p, 7, 400);
	cr_assert_eq(p.files, 7);
	cr_assert_eq(p.bytes, 500);
	ama_progress_set(&p, 6, 900);
	cr_assert_eq(p.files, 7);
	cr_assert_eq(p.bytes, 900);
}

Test(progress, add_accumulates)
{
	struct ama_progress p;

	ama_progress_init(&p, "hashing", 0);
	ama_progress_add(&p, 1, 0);
	ama_progress_add(&p, 0, 4096);
	ama_progress_add(&p, 2, 100);
	ama_progress_add(&p, 0, 0);
	cr_assert_eq(p.files, 3);
	cr_assert_eq(p.bytes, 4196);
	/* set below what add reached changes nothing */
	ama_progress_set(&p, 1, 1);
	cr_assert_eq(p.files, 3);
	cr_assert_eq(p.bytes, 4196);
}

Test(progress, a_line_shows_the_highest_counts)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "hashing", 1);
	just_drawn(&p);
	ama_progress_set(&p, 5, 500);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 3, 100);
	assert_output(end_capture(&c),
		      LINE("hashing: 5 files, 500 B, <rate>/s"));
}

Test(progress, done_ends_the_line_with_the_time_taken)
{
	struct ama_progress p;
	struct capture c;

	ama_progress_init(&p, "staging", 1);
	ama_progress_total(&p, 10, 10 * KiB);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_set(&p, 4, 4 * KiB);
	just_drawn(&p);
	ama_progress_add(&p, 6, 6 * KiB);	/* held back */
	ama_progress_done(&p);			/* drawn regardless */
	assert_output(end_capture(&c),
		      LINE("staging: 4/10 files, 4.0 KiB/10.0 KiB, <rate>/s, "
			   "ETA <eta>")
		      LINE("staging: 10/10 files, 10.0 KiB/10.0 KiB, "
			   "<rate>/s, <secs> s") "\n");
}

Test(progress, a_job_never_drawn_leaves_no_line)
{
	struct ama_progress p;
	struct capture c;
	char *got;

	ama_progress_init(&p, "hashing", 1);
	just_drawn(&p);
	start_capture(&c);
	ama_progress_total(&p, 2, 20);
	ama_progress_set(&p, 2, 20);
	ama_progress_done(&p);
	got = end_capture(&c);
	cr_assert_str_eq(got, "");
	cr_assert_eq(p.drawn, 0);
	free(got);
}

Test(progress, disabled_writes_nothing_but_counts)
{
	struct ama_progress p;
	struct capture c;
	char *got;

	ama_progress_init(&p, "hashing", 0);
	ten_seconds_in(&p);
	start_capture(&c);
	ama_progress_total(&p, 10, 10 * KiB);
	ama_progress_set(&p, 3, 3 * KiB);
	ten_seconds_in(&p);
	ama_progress_add(&p, 7, 7 * KiB);
	ten_seconds_in(&p);
	ama_progress_done(&p);
	got = end_capture(&c);
	cr_assert_str_eq(got, "");
	cr_assert_eq(p.drawn, 0);
	cr_assert_eq(p.files, 10);
	cr_assert_eq(p.bytes, 10 * KiB);
	free(got);
}

/* the monotonic clock in seconds */
static double mono(void)
{
	struct timespec ts;

	cr_assert_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(progress, now_counts_monotonic_seconds)
{
	struct timespec ms20 = { 0, 20000000 };
	double before, a, b, after;

	before = mono();
	a = ama_now();
	cr_assert_eq(clock_nanosleep(CLOCK_MONOTONIC, 0, &ms20, NULL), 0);
	b = ama_now();
	after = mono();
	/* at least the sleep, at most what the same clock saw around it */
	cr_assert_geq(b - a, 0.0199, "%f s passed", b - a);
	cr_assert_leq(b - a, after - before + 1e-6, "%f s passed, not %f",
		      b - a, after - before);
}
