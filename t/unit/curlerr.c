/* t/unit/curlerr.c: which libcurl results are setup errors. */
#include "auto-config.h"

#include <criterion/criterion.h>

#include "curlerr.h"
#include "error.h"

Test(curlerr, names_that_do_not_resolve_and_bad_urls_are_setup_errors)
{
	cr_assert(ama_curl_is_setup_error(CURLE_COULDNT_RESOLVE_HOST));
	cr_assert(ama_curl_is_setup_error(CURLE_URL_MALFORMAT));
	cr_assert(ama_curl_is_setup_error(CURLE_UNSUPPORTED_PROTOCOL));
	cr_assert(ama_curl_is_setup_error(CURLE_PEER_FAILED_VERIFICATION));
}

Test(curlerr, resets_timeouts_and_refusals_may_pass_on_a_retry)
{
	cr_assert_not(ama_curl_is_setup_error(CURLE_OK));
	cr_assert_not(ama_curl_is_setup_error(CURLE_RECV_ERROR));
	cr_assert_not(ama_curl_is_setup_error(CURLE_SEND_ERROR));
	cr_assert_not(ama_curl_is_setup_error(CURLE_OPERATION_TIMEDOUT));
	cr_assert_not(ama_curl_is_setup_error(CURLE_PARTIAL_FILE));
	cr_assert_not(ama_curl_is_setup_error(CURLE_COULDNT_CONNECT));
}

Test(curlerr, the_message_names_the_url_and_prefers_libcurls_own_words)
{
	cr_assert_eq(ama_curl_setup_error(CURLE_COULDNT_RESOLVE_HOST,
					  "http://nosuch.invalid:9000",
					  "Could not resolve host: nosuch.invalid"),
		     AMA_ESETUP);
	cr_assert_str_eq(ama_error_msg(), "cannot use http://nosuch.invalid:9000: "
			 "Could not resolve host: nosuch.invalid");
	ama_curl_setup_error(CURLE_URL_MALFORMAT, "x:", "");
	cr_assert_str_eq(ama_error_msg(), "cannot use x:: URL using bad/illegal "
			 "format or missing URL");
}
