/* curlerr.h: what a libcurl result means to ama: a setup error or one worth a retry. */
#ifndef AMA_CURLERR_H
#define AMA_CURLERR_H

#include <curl/curl.h>

/*
 * Is cc a failure that no retry can mend: a name that does not resolve, a
 * bad URL or protocol, a TLS certificate refused? Those are setup errors
 * (exit 2); anything else that fails a transfer may pass on a retry.
 */
int ama_curl_is_setup_error(CURLcode cc);

/*
 * Set the error for such a failure: AMA_ESETUP "cannot use URL: REASON",
 * REASON being libcurl's message in errbuf when it has one (may be NULL),
 * else curl_easy_strerror(cc). Returns AMA_ESETUP.
 */
int ama_curl_setup_error(CURLcode cc, const char *url, const char *errbuf);

#endif
