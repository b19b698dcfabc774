/* t/unit/srv_target.c: the request targets ama-server takes (server/target.c). */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "target.h"

/* The reason s is refused, or "" when it is taken. */
static const char *why(const char *s, size_t len)
{
	static char out[256];
	struct ama_buf b = AMA_BUF_INIT;

	out[0] = '\0';
	if (srv_target_check(&b, s, len) < 0)
		snprintf(out, sizeof(out), "%s", ama_buf_str(&b));
	else
		cr_assert_eq(b.len, 0);
	ama_buf_release(&b);
	return out;
}

static const char *check(const char *s)
{
	return why(s, strlen(s));
}

Test(target, the_routes_and_their_queries_are_taken)
{
	cr_assert_str_eq(check("/v1/classes"), "");
	cr_assert_str_eq(check("/v1/classes/imaging.2024_x-y~"), "");
	cr_assert_str_eq(check("/v1/classes/imaging/assets/3/versions?max=2"),
			 "");
	cr_assert_str_eq(check("/v1/classes/%41bc"), "");
	cr_assert_str_eq(check("/a!$&'()*+,;=:@"), "");
	cr_assert_str_eq(check("/v1/x?a=/b?c&d=%2F%25%C3%A9"), "");
	/* dot segments and empty ones are the router's to refuse */
	cr_assert_str_eq(check("/v1/../v1//classes/.."), "");
}

Test(target, escapes_of_bytes_with_no_place_in_a_segment_are_named)
{
	cr_assert_str_eq(check("/v1/classes/imaging%00x"),
		"the request path holds %00, which has no place in a path "
		"segment");
	cr_assert_str_eq(check("/v1/classes/a%2fb"),
		"the request path holds %2f, which has no place in a path "
		"segment");
	cr_assert_str_eq(check("/v1/classes/%25"),
		"the request path holds %25, which has no place in a path "
		"segment");
	cr_assert_str_eq(check("/x%20"), "the request path holds %20, which "
			 "has no place in a path segment");
	cr_assert_str_eq(check("/x%7F"), "the request path holds %7F, which "
			 "has no place in a path segment");
	cr_assert_str_eq(check("/x%C3%A9"), "the request path holds %C3, "
			 "which has no place in a path segment");
}

Test(target, raw_bytes_with_no_place_are_named)
{
	cr_assert_str_eq(check("/a b"), "the request path holds byte 0x20, "
			 "which has no place in it");
	cr_assert_str_eq(check("/a\tb"), "the request path holds byte 0x09, "
			 "which has no place in it");
	cr_assert_str_eq(check("/\303\251"), "the request path holds byte "
			 "0xC3, which has no place in it");
	cr_assert_str_eq(check("/a\"b"), "the request path holds byte 0x22, "
			 "which has no place in it");
	cr_assert_str_eq(check("/a\\b"), "the request path holds byte 0x5C, "
			 "which has no place in it");
	/* a NUL inside the length is a byte like any other */
	cr_assert_str_eq(why("/a\0b", 4), "the request path holds byte 0x00, "
			 "which has no place in it");
	cr_assert_str_eq(check("/v1/x?a b"), "the query holds byte 0x20, "
			 "which has no place in it");
}

Test(target, a_cut_or_bad_escape_is_refused)
{
	const char *msg = "the request path holds a '%' without two hex "
		"digits after it";

	cr_assert_str_eq(check("/a%"), msg);
	cr_assert_str_eq(check("/a%2"), msg);
	cr_assert_str_eq(check("/a%zz"), msg);
	cr_assert_str_eq(check("/a%g0"), msg);
	cr_assert_str_eq(check("/v1/x?%4"), "the query holds a '%' without "
			 "two hex digits after it");
}

Test(target, the_query_may_not_escape_nul_or_control_bytes)
{
	cr_assert_str_eq(check("/v1/x?a=%00"), "the query holds %00, a NUL "
			 "or control byte");
	cr_assert_str_eq(check("/v1/x?a=%1f"), "the query holds %1f, a NUL "
			 "or control byte");
	cr_assert_str_eq(check("/v1/x?a=%7F"), "the query holds %7F, a NUL "
			 "or control byte");
	cr_assert_str_eq(check("/v1/x?a=%20%FF"), "");
}

Test(target, anything_but_an_absolute_path_is_refused)
{
	const char *msg = "the request path does not start with '/'";

	cr_assert_str_eq(check(""), msg);
	cr_assert_str_eq(check("*"), msg);
	cr_assert_str_eq(check("http://x/v1/classes"), msg);
	cr_assert_str_eq(check("v1/classes"), msg);
}
