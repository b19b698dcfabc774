/* t/unit/settings.c: the user's settings over what the server said of a class. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#include "config.h"
#include "error.h"
#include "settings.h"

static struct ama_config *empty(void)
{
	struct ama_config *c;

	cr_assert_eq(ama_config_load_file(&c, "/nonexistent/ama-config"), 0);
	unsetenv("AMA_STORE_STAGING");
	unsetenv("AMA_S3_ENDPOINT");
	unsetenv("AMA_CLASS_TOP_HASH");
	return c;
}

Test(settings, class_values_fill_what_the_user_left_unset)
{
	struct ama_config *c = empty();

	ama_config_put(c, "class", "staging", "s3://stage/p");
	ama_config_put(c, "class", "remote", "s3://remote/p");
	ama_config_put(c, "class", "s3-endpoint", "http://127.0.0.1:9000");
	ama_config_put(c, "store", "remote", "file:///mine");
	ama_settings_apply_class(c);
	cr_assert_str_eq(ama_settings_store_url(c, "staging"), "s3://stage/p");
	cr_assert_str_eq(ama_settings_store_url(c, "remote"), "file:///mine");
	cr_assert_str_eq(ama_config_get(c, "s3", "endpoint"),
			 "http://127.0.0.1:9000");
	ama_config_free(c);
}

Test(settings, the_environment_beats_the_class)
{
	struct ama_config *c = empty();

	ama_config_put(c, "class", "staging", "s3://stage/p");
	setenv("AMA_STORE_STAGING", "file:///env", 1);
	ama_settings_apply_class(c);
	cr_assert_str_eq(ama_settings_store_url(c, "staging"), "file:///env");
	unsetenv("AMA_STORE_STAGING");
	ama_config_free(c);
}

Test(settings, a_missing_bucket_says_how_to_get_one)
{
	struct ama_config *c = empty();

	cr_assert_null(ama_settings_store_url(c, "staging"));
	cr_assert_eq(ama_error_code(), AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(),
		"no staging bucket: set [store] staging, or run 'ama upload' "
		"once to ask the server");
	ama_config_free(c);
}

Test(settings, the_top_hash_must_be_32_hex_digits)
{
	struct ama_config *c = empty();

	cr_assert_null(ama_settings_top_hash(c));
	cr_assert_eq(ama_error_code(), AMA_ESETUP);
	ama_config_put(c, "class", "top-hash", "XYZ");
	cr_assert_null(ama_settings_top_hash(c));
	cr_assert_str_eq(ama_error_msg(),
		"[class] top-hash: 'XYZ' is not 32 lowercase hex digits");
	ama_config_put(c, "class", "top-hash",
		       "0123456789abcdef0123456789abcdef");
	cr_assert_str_eq(ama_settings_top_hash(c),
			 "0123456789abcdef0123456789abcdef");
	ama_config_free(c);
}
