/* t/unit/version.c: version numbers: the strict text form, order and succession. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "error.h"
#include "version.h"

static struct ama_version parsed(const char *s)
{
	struct ama_version v = { 7, 7, 7 };

	cr_assert_eq(ama_version_parse(&v, s), 0, "%s: %s", s, ama_error_msg());
	return v;
}

static void assert_version(struct ama_version v, uint32_t x, uint32_t y,
			   uint32_t z)
{
	cr_assert_eq(v.x, x);
	cr_assert_eq(v.y, y);
	cr_assert_eq(v.z, z);
}

Test(version, valid_numbers_parse)
{
	assert_version(parsed("0.0.0"), 0, 0, 0);
	assert_version(parsed("1.2.3"), 1, 2, 3);
	assert_version(parsed("10.98.98"), 10, 98, 98);
	assert_version(parsed("4294967295.98.98"), 4294967295u, 98, 98);
}

Test(version, malformed_numbers_are_rejected)
{
	static const char *const bad[] = {
		"", "1", "1.2", "1.2.3.4", "01.0.0", "0.00.0", "0.0.01",
		"0.0.99", "0.99.0", "-1.0.0", "+1.0.0", " 1.0.0", "1.0.0 ",
		"1..0", ".1.0", "1.0.", "4294967296.0.0", "99999999999.0.0",
		"1.0.0\n", "a.b.c", "1.0x.0", "0x1.0.0", "1.0.100",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct ama_version v = { 5, 5, 5 };

		cr_assert_eq(ama_version_parse(&v, bad[i]), AMA_EINVAL,
			     "accepted '%s'", bad[i]);
		assert_version(v, 5, 5, 5);
	}
}

Test(version, the_reason_names_the_text)
{
	struct ama_version v;

	cr_assert_eq(ama_version_parse(&v, "0.99.1"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "bad version '0.99.1' (want X.Y.Z, Y and Z 0..98)");
	cr_assert_eq(ama_version_parse(&v, "1.\n.2"), AMA_EINVAL);
	cr_assert_str_eq(ama_error_msg(),
			 "bad version \"1.\\n.2\" (want X.Y.Z, Y and Z 0..98)");
}

Test(version, parse_n_reads_only_len_bytes)
{
	struct ama_version v;

	cr_assert_eq(ama_version_parse_n(&v, "2.3.45xyz", 6), 0);
	assert_version(v, 2, 3, 45);
	cr_assert_eq(ama_version_parse_n(&v, "2.3.45xyz", 7), AMA_EINVAL);
	cr_assert_eq(ama_version_parse_n(&v, "2.3.45", 3), AMA_EINVAL);
}

Test(version, format_writes_the_canonical_text)
{
	char buf[AMA_VERSION_BUFSIZE];
	struct ama_version v = { 4294967295u, 98, 98 }, zero = { 0, 0, 0 };

	ama_version_format(buf, &v);
	cr_assert_str_eq(buf, "4294967295.98.98");
	ama_version_format(buf, &zero);
	cr_assert_str_eq(buf, "0.0.0");
}

static struct ama_version next_of(const char *s)
{
	struct ama_version v = parsed(s), n;

	cr_assert_eq(ama_version_next(&n, &v), 0);
	return n;
}

Test(version, next_carries_after_98)
{
	assert_version(next_of("0.0.0"), 0, 0, 1);
	assert_version(next_of("3.4.5"), 3, 4, 6);
	assert_version(next_of("0.0.98"), 0, 1, 0);
	assert_version(next_of("0.97.98"), 0, 98, 0);
	assert_version(next_of("0.98.98"), 1, 0, 0);
	assert_version(next_of("7.98.98"), 8, 0, 0);
}

Test(version, there_is_no_next_of_the_last_or_an_invalid_one)
{
	struct ama_version last = { AMA_VERSION_XMAX, 98, 98 }, bad = { 0, 99, 0 };
	struct ama_version n = { 1, 1, 1 };

	cr_assert_eq(ama_version_next(&n, &last), AMA_EINVAL);
	cr_assert_eq(ama_version_next(&n, &bad), AMA_EINVAL);
	assert_version(n, 1, 1, 1);
}

Test(version, compare_orders_by_x_then_y_then_z)
{
	struct ama_version a = parsed("1.0.0"), b = parsed("0.98.98");
	struct ama_version c = parsed("0.2.0"), d = parsed("0.1.98");

	cr_assert_gt(ama_version_cmp(&a, &b), 0);
	cr_assert_lt(ama_version_cmp(&b, &a), 0);
	cr_assert_gt(ama_version_cmp(&c, &d), 0);
	cr_assert_eq(ama_version_cmp(&a, &a), 0);
}

Test(version, successive_versions_increase_and_round_trip)
{
	struct ama_version v = { 0, 0, 0 }, n, back;
	char buf[AMA_VERSION_BUFSIZE];
	int i;

	/* past two carries of Y into X */
	for (i = 0; i < 2 * 99 * 99 + 5; i++) {
		cr_assert_eq(ama_version_next(&n, &v), 0);
		cr_assert_lt(ama_version_cmp(&v, &n), 0);
		ama_version_format(buf, &n);
		cr_assert_eq(ama_version_parse(&back, buf), 0);
		cr_assert_eq(ama_version_cmp(&back, &n), 0);
		v = n;
	}
	ama_version_format(buf, &v);
	cr_assert_str_eq(buf, "2.0.5");
}
