/* curlerr.c: what a libcurl result means to ama: a setup error or one worth a retry. */
#include "auto-config.h"

#include "curlerr.h"
#include "error.h"

int ama_curl_is_setup_error(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return 1;
	default:
		return 0;
	}
}

int ama_curl_setup_error(CURLcode cc, const char *url, const char *errbuf)
{
	return ama_error_set(AMA_ESETUP, "cannot use %s: %s", url,
			     errbuf && errbuf[0] ? errbuf :
			     curl_easy_strerror(cc));
}
