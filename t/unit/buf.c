/* t/unit/buf.c: growable NUL-terminated buffers and checked allocation. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* b holds exactly the n bytes of want, followed by a NUL */
static void assert_holds(const struct ama_buf *b, const void *want, size_t n)
{
	cr_assert_not_null(b->s);
	cr_assert_eq(b->len, n);
	cr_assert_gt(b->cap, b->len);
	cr_assert(!memcmp(b->s, want, n));
	cr_assert_eq(b->s[n], '\0');
	cr_assert_eq(ama_buf_str(b), b->s);
}

Test(buf, init_is_empty_and_unallocated)
{
	struct ama_buf b = AMA_BUF_INIT;

	cr_assert_null(b.s);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
	ama_buf_release(&b);
	cr_assert_null(b.s);
}

Test(buf, add_copies_bytes_and_terminates)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_add(&b, "abcdef", 3);
	assert_holds(&b, "abc", 3);
	ama_buf_add(&b, "xyz", 3);
	assert_holds(&b, "abcxyz", 6);
	cr_assert_str_eq(ama_buf_str(&b), "abcxyz");
	ama_buf_release(&b);
}

Test(buf, add_keeps_nul_bytes_inside)
{
	static const char bin[] = "a\0b\0\0c\377";
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_add(&b, bin, sizeof(bin) - 1);
	assert_holds(&b, bin, 7);
	cr_assert_eq(strlen(b.s), 1);
	ama_buf_add(&b, "\0", 1);
	assert_holds(&b, "a\0b\0\0c\377\0", 8);
	ama_buf_release(&b);
}

Test(buf, adding_nothing_gives_an_allocated_empty_string)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_add(&b, "ignored", 0);
	assert_holds(&b, "", 0);
	ama_buf_addstr(&b, "");
	assert_holds(&b, "", 0);
	ama_buf_release(&b);
}

Test(buf, addstr_appends_up_to_the_nul)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "data/");
	ama_buf_addstr(&b, "x y\tz.bin\0never");
	assert_holds(&b, "data/x y\tz.bin", 14);
	ama_buf_release(&b);
}

Test(buf, addch_appends_any_byte_including_nul)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addch(&b, 'a');
	ama_buf_addch(&b, '\0');
	ama_buf_addch(&b, 0xff);
	ama_buf_addch(&b, '\n');
	assert_holds(&b, "a\0\377\n", 4);
	ama_buf_release(&b);
}

Test(buf, many_appends_grow_and_keep_every_byte)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t i, n = 300000;
	char *want = malloc(n);

	for (i = 0; i < n; i++) {
		want[i] = (char)(i % 251);	/* a NUL every 251 bytes */
		if (i % 3 == 0)
			ama_buf_addch(&b, want[i]);
		else
			ama_buf_add(&b, &want[i], 1);
		cr_assert_gt(b.cap, b.len);
		cr_assert_eq(b.s[b.len], '\0');
	}
	assert_holds(&b, want, n);
	free(want);
	ama_buf_release(&b);
}

Test(buf, large_blocks_grow_in_one_step)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t n = 1 << 20;
	char *big = malloc(n);
	char *want = malloc(2 * n + 1);

	memset(big, 'q', n);
	ama_buf_addch(&b, '<');
	ama_buf_add(&b, big, n);
	ama_buf_add(&b, big, n);
	want[0] = '<';
	memset(want + 1, 'q', 2 * n);
	assert_holds(&b, want, 2 * n + 1);
	free(big);
	free(want);
	ama_buf_release(&b);
}

Test(buf, grow_reserves_room_so_appends_do_not_move_it)
{
	struct ama_buf b = AMA_BUF_INIT;
	char block[5000];
	const char *before;

	memset(block, 'z', sizeof(block));
	ama_buf_addstr(&b, "head");
	ama_buf_grow(&b, sizeof(block));
	cr_assert_geq(b.cap, 4 + sizeof(block) + 1);
	assert_holds(&b, "head", 4);
	before = b.s;
	ama_buf_add(&b, block, sizeof(block));
	cr_assert_eq(b.s, before);
	cr_assert_eq(b.len, 4 + sizeof(block));
	cr_assert(!memcmp(b.s, "headzzz", 7));
	cr_assert_eq(b.s[b.len], '\0');
	ama_buf_release(&b);
}

Test(buf, grow_within_capacity_changes_nothing)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *s;
	size_t cap;

	ama_buf_addstr(&b, "abc");
	s = b.s;
	cap = b.cap;
	ama_buf_grow(&b, cap - b.len - 1);
	ama_buf_grow(&b, 0);
	cr_assert_eq(b.s, s);
	cr_assert_eq(b.cap, cap);
	assert_holds(&b, "abc", 3);
	ama_buf_release(&b);
}

Test(buf, addf_formats_and_appends)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "key ");
	ama_buf_addf(&b, "%s=%d %05lu %x %c%%", "size", -42, 7UL, 255u, 'z');
	cr_assert_str_eq(ama_buf_str(&b), "key size=-42 00007 ff z%");
	cr_assert_eq(b.len, strlen("key size=-42 00007 ff z%"));
	ama_buf_release(&b);
}

Test(buf, addf_of_nothing_gives_an_allocated_empty_string)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%s", "");
	assert_holds(&b, "", 0);
	ama_buf_release(&b);
}

Test(buf, addf_may_write_a_nul_byte)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "a%cb", '\0');
	assert_holds(&b, "a\0b", 3);
	ama_buf_release(&b);
}

Test(buf, addf_longer_than_any_initial_capacity)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t n = 100000;
	char *arg = malloc(n + 1);
	char *want = malloc(n + 32);

	memset(arg, 'w', n);
	arg[n] = '\0';
	ama_buf_addstr(&b, "pre ");
	ama_buf_addf(&b, "[%s] %d", arg, 12345);
	snprintf(want, n + 32, "pre [%s] %d", arg, 12345);
	assert_holds(&b, want, n + 12);
	free(arg);
	free(want);
	ama_buf_release(&b);
}

/*
 * Every output length around the free space left after every prefix
 * length: the first vsnprintf fits exactly, misses by the NUL, or misses.
 */
Test(buf, addf_at_every_capacity_boundary)
{
	char arg[400], want[800];
	size_t pre, n;

	memset(arg, 'a', sizeof(arg));
	for (pre = 0; pre < 200; pre += 7) {
		for (n = 0; n < 300; n++) {
			struct ama_buf b = AMA_BUF_INIT;

			memset(want, 'p', pre);
			memcpy(want + pre, arg, n);
			ama_buf_add(&b, want, pre);
			ama_buf_addf(&b, "%.*s", (int)n, arg);
			assert_holds(&b, want, pre + n);
			ama_buf_release(&b);
		}
	}
}

static void addf_through(struct ama_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void addf_through(struct ama_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ama_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* the retry after growth must still see the arguments */
Test(buf, vaddf_reuses_its_arguments_after_growing)
{
	struct ama_buf b = AMA_BUF_INIT;
	char arg[1000], want[2100];

	memset(arg, 'v', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = '\0';
	addf_through(&b, "%s|%d|%s", arg, 77, arg);
	snprintf(want, sizeof(want), "%s|77|%s", arg, arg);
	assert_holds(&b, want, 2 * 999 + 4);
	ama_buf_release(&b);
}

Test(buf, reset_keeps_the_allocation)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *s;
	size_t cap;

	ama_buf_addstr(&b, "some contents");
	s = b.s;
	cap = b.cap;
	ama_buf_reset(&b);
	cr_assert_eq(b.s, s);
	cr_assert_eq(b.cap, cap);
	assert_holds(&b, "", 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
	ama_buf_addstr(&b, "new");
	cr_assert_eq(b.s, s);
	assert_holds(&b, "new", 3);
	ama_buf_release(&b);
}

Test(buf, reset_of_an_empty_buffer_allocates_nothing)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_reset(&b);
	cr_assert_null(b.s);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
}

Test(buf, truncate_shortens_and_terminates)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *s;

	ama_buf_add(&b, "hello\0world", 11);
	s = b.s;
	ama_buf_truncate(&b, 11);
	assert_holds(&b, "hello\0world", 11);
	ama_buf_truncate(&b, 7);
	assert_holds(&b, "hello\0w", 7);
	ama_buf_truncate(&b, 5);
	assert_holds(&b, "hello", 5);
	cr_assert_str_eq(ama_buf_str(&b), "hello");
	ama_buf_truncate(&b, 0);
	assert_holds(&b, "", 0);
	cr_assert_eq(b.s, s);
	ama_buf_release(&b);
}

Test(buf, truncate_of_an_empty_buffer_to_zero_is_allowed)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_truncate(&b, 0);
	cr_assert_null(b.s);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
}

/* lengthening is a programming error */
Test(buf, truncate_beyond_the_length_aborts, .signal = SIGABRT)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "abc");
	ama_buf_truncate(&b, 4);
}

/* a size whose sum with the length wraps: no room is pretended */
Test(buf, growing_by_a_size_that_wraps_aborts, .signal = SIGABRT,
     .timeout = 10)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "abc");
	ama_buf_grow(&b, SIZE_MAX - 3);
}

Test(buf, growing_an_empty_buffer_by_size_max_aborts, .signal = SIGABRT,
     .timeout = 10)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_grow(&b, SIZE_MAX);
}

/* past where cap * 3 / 2 would overflow: aborts, does not loop */
Test(buf, growing_to_half_the_address_space_aborts, .signal = SIGABRT,
     .timeout = 10)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_grow(&b, SIZE_MAX / 2);
}

Test(buf, detach_hands_over_the_string)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *s;
	char *d;

	ama_buf_add(&b, "det\0ach", 7);
	s = b.s;
	d = ama_buf_detach(&b);
	cr_assert_eq(d, s);
	cr_assert(!memcmp(d, "det\0ach", 8));
	cr_assert_null(b.s);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
	/* the buffer is usable again and no longer shares the string */
	ama_buf_addstr(&b, "again");
	cr_assert_neq(b.s, d);
	assert_holds(&b, "again", 5);
	cr_assert(!memcmp(d, "det\0ach", 8));
	free(d);
	ama_buf_release(&b);
}

Test(buf, detach_of_an_empty_buffer_gives_a_freeable_empty_string)
{
	struct ama_buf b = AMA_BUF_INIT;
	char *d = ama_buf_detach(&b);

	cr_assert_not_null(d);
	cr_assert_str_eq(d, "");
	cr_assert_null(b.s);
	free(d);
}

Test(buf, release_frees_and_leaves_an_empty_reusable_buffer)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addf(&b, "%d", 123);
	ama_buf_release(&b);
	cr_assert_null(b.s);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.cap, 0);
	cr_assert_str_eq(ama_buf_str(&b), "");
	ama_buf_release(&b);
	cr_assert_null(b.s);
	ama_buf_addstr(&b, "back");
	assert_holds(&b, "back", 4);
	ama_buf_release(&b);
}

/* far beyond any address space: the allocation fails and grow aborts */
Test(buf, growing_to_an_impossible_size_aborts, .signal = SIGABRT,
     .timeout = 60)
{
	struct ama_buf b = AMA_BUF_INIT;

	ama_buf_addstr(&b, "x");
	ama_buf_grow(&b, SIZE_MAX / 4);
}

Test(alloc, zero_bytes_still_give_a_pointer)
{
	void *m = ama_malloc(0);
	void *c = ama_calloc(0, 0);
	void *r = ama_realloc(NULL, 0);

	cr_assert_not_null(m);
	cr_assert_not_null(c);
	cr_assert_not_null(r);
	r = ama_realloc(r, 0);
	cr_assert_not_null(r);
	free(m);
	free(c);
	free(r);
}

Test(alloc, calloc_zeroes_every_byte)
{
	unsigned char *p = ama_calloc(1000, 33);
	size_t i;

	for (i = 0; i < 33000; i++)
		cr_assert_eq(p[i], 0, "byte %zu is %u", i, p[i]);
	free(p);
}

Test(alloc, realloc_keeps_the_contents)
{
	char *p = ama_malloc(4);
	size_t i;

	memcpy(p, "ab\0c", 4);
	p = ama_realloc(p, 1 << 20);
	cr_assert(!memcmp(p, "ab\0c", 4));
	for (i = 4; i < (1 << 20); i++)
		p[i] = 'x';
	p = ama_realloc(p, 2);
	cr_assert(!memcmp(p, "ab", 2));
	free(p);
}

Test(alloc, strdup_copies)
{
	char src[] = "data/a\tb";
	char *d = ama_strdup(src);
	char *e = ama_strdup("");

	cr_assert_neq(d, src);
	src[0] = 'X';
	cr_assert_str_eq(d, "data/a\tb");
	cr_assert_str_eq(e, "");
	free(d);
	free(e);
}

Test(alloc, strndup_stops_at_n_or_at_a_nul)
{
	char *a = ama_strndup("abcdef", 3);
	char *b = ama_strndup("ab\0cd", 5);
	char *c = ama_strndup("abc", 0);
	char *d = ama_strndup("abc", 100);

	cr_assert_str_eq(a, "abc");
	cr_assert_str_eq(b, "ab");
	cr_assert_str_eq(c, "");
	cr_assert_str_eq(d, "abc");
	free(a);
	free(b);
	free(c);
	free(d);
}

/* a size the compiler cannot see, so it cannot warn or fold the call */
static volatile size_t huge = SIZE_MAX;

Test(alloc, malloc_of_an_impossible_size_aborts, .signal = SIGABRT)
{
	free(ama_malloc(huge));
}

Test(alloc, calloc_whose_product_overflows_aborts, .signal = SIGABRT)
{
	free(ama_calloc(huge / 2 + 2, 2));
}

Test(alloc, realloc_to_an_impossible_size_aborts, .signal = SIGABRT)
{
	void *p = ama_malloc(16);

	p = ama_realloc(p, huge);
	free(p);
}
