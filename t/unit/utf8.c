/* t/unit/utf8.c: UTF-8 characters and strings as RFC 3629 defines them. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

static size_t len_of(const char *s)
{
	return ama_utf8_char((const unsigned char *)s, strlen(s) ? strlen(s) : 1);
}

Test(utf8_char, ascii_and_nul_are_one_byte)
{
	cr_assert_eq(len_of("a"), 1);
	cr_assert_eq(len_of("\x7f"), 1);
	cr_assert_eq(ama_utf8_char((const unsigned char *)"", 1), 1);
}

Test(utf8_char, each_length_at_its_bounds)
{
	cr_assert_eq(len_of("\xc2\x80"), 2);		/* U+0080 */
	cr_assert_eq(len_of("\xdf\xbf"), 2);		/* U+07FF */
	cr_assert_eq(len_of("\xe0\xa0\x80"), 3);	/* U+0800 */
	cr_assert_eq(len_of("\xed\x9f\xbf"), 3);	/* U+D7FF */
	cr_assert_eq(len_of("\xee\x80\x80"), 3);	/* U+E000 */
	cr_assert_eq(len_of("\xef\xbf\xbf"), 3);	/* U+FFFF */
	cr_assert_eq(len_of("\xf0\x90\x80\x80"), 4);	/* U+10000 */
	cr_assert_eq(len_of("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
	/* only the character at s counts */
	cr_assert_eq(len_of("\xc3\xa9tc"), 2);
}

Test(utf8_char, what_is_not_a_character_is_0)
{
	cr_assert_eq(len_of("\x80"), 0, "a stray continuation byte");
	cr_assert_eq(len_of("\xbf"), 0);
	cr_assert_eq(len_of("\xc0\xaf"), 0, "overlong '/'");
	cr_assert_eq(len_of("\xc1\xbf"), 0);
	cr_assert_eq(len_of("\xe0\x9f\xbf"), 0, "overlong U+07FF");
	cr_assert_eq(len_of("\xf0\x8f\xbf\xbf"), 0, "overlong U+FFFF");
	cr_assert_eq(len_of("\xed\xa0\x80"), 0, "surrogate U+D800");
	cr_assert_eq(len_of("\xed\xbf\xbf"), 0, "surrogate U+DFFF");
	cr_assert_eq(len_of("\xf4\x90\x80\x80"), 0, "U+110000");
	cr_assert_eq(len_of("\xf5\x80\x80\x80"), 0);
	cr_assert_eq(len_of("\xff"), 0);
	cr_assert_eq(len_of("\xc3" "a"), 0, "a continuation missing");
	cr_assert_eq(len_of("\xe2\x82" "a"), 0);
}

Test(utf8_char, n_bounds_the_character)
{
	const unsigned char euro[] = { 0xe2, 0x82, 0xac };

	cr_assert_eq(ama_utf8_char(euro, 3), 3);
	cr_assert_eq(ama_utf8_char(euro, 2), 0, "cut by n");
	cr_assert_eq(ama_utf8_char(euro, 1), 0);
	/* in a NUL-terminated string SIZE_MAX is safe: the NUL stops it */
	cr_assert_eq(ama_utf8_char((const unsigned char *)"\xe2\x82", SIZE_MAX),
		     0);
	cr_assert_eq(ama_utf8_char((const unsigned char *)"\xe2\x82\xac",
				   SIZE_MAX), 3);
}

Test(utf8_valid, strings)
{
	cr_assert_eq(ama_utf8_valid("", 0), 1);
	cr_assert_eq(ama_utf8_valid("plain/path.txt", 14), 1);
	cr_assert_eq(ama_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14), 1);
	cr_assert_eq(ama_utf8_valid("a\0b", 3), 0, "a NUL inside");
	cr_assert_eq(ama_utf8_valid("caf\xe9", 4), 0, "Latin-1");
	cr_assert_eq(ama_utf8_valid("\xc3\xa9", 1), 0, "cut by n");
	cr_assert_eq(ama_utf8_valid("ok\xed\xa0\x80", 5), 0);
}
