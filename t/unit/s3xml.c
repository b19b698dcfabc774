/* t/unit/s3xml.c: reading canned S3 XML answers: listings, uploads, copies, errors. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "s3xml.h"
#include "store.h"

#define XML(s) s, strlen(s)

Test(s3xml, error_gives_code_message_and_bucket)
{
	struct ama_s3_error e;
	const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Error><Code>NoSuchBucket</Code>"
		"<Message>The specified bucket does not exist</Message>"
		"<BucketName>my-bucket</BucketName></Error>";

	cr_assert_eq(ama_s3xml_error(&e, XML(x)), 0);
	cr_assert_str_eq(e.code, "NoSuchBucket");
	cr_assert_str_eq(e.message, "The specified bucket does not exist");
	cr_assert_str_eq(e.bucket, "my-bucket");
}

Test(s3xml, error_message_entities_are_decoded)
{
	struct ama_s3_error e;
	const char *x = "<Error><Code>XAmzContentSHA256Mismatch</Code>"
		"<Message>The provided &apos;x-amz-content-sha256&apos; "
		"header &amp; body &lt;differ&gt;</Message></Error>";

	cr_assert_eq(ama_s3xml_error(&e, XML(x)), 0);
	cr_assert_str_eq(e.message, "The provided 'x-amz-content-sha256' "
			 "header & body <differ>");
}

Test(s3xml, a_body_that_is_not_an_error_is_refused)
{
	struct ama_s3_error e;

	cr_assert_eq(ama_s3xml_error(&e, XML("<ListBucketResult/>")),
		     AMA_ECORRUPT);
	cr_assert_eq(ama_s3xml_error(&e, XML("<Error><Code>x</Cod")),
		     AMA_ECORRUPT);
	cr_assert_eq(ama_s3xml_error(&e, XML("")), AMA_ECORRUPT);
}

static const char list_page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>staging</Name><Prefix>pre/</Prefix><KeyCount>3</KeyCount>"
	"<MaxKeys>3</MaxKeys><IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"<Contents><Key>pre/a&amp;b &lt;c&gt; &#x27;d&#39; &quot;e&quot;</Key>"
	"<LastModified>2026-11-25T21:14:28.000Z</LastModified>"
	"<ETag>&quot;b1946ac92492d2347c6235b4d2611184&quot;</ETag>"
	"<Size>6</Size><StorageClass>STANDARD</StorageClass></Contents>"
	"<Contents><Key>pre/big</Key><ETag>\"0123456789abcdef0123456789abcdef-19\"</ETag>"
	"<Size>314572800</Size></Contents>"
	"<Contents><Key>pre/utf8-\xc3\xa9</Key><ETag>\"x\"</ETag><Size>0</Size></Contents>"
	"</ListBucketResult>";

Test(s3xml, listing_entries_with_entities_and_etags)
{
	struct ama_store_page p;

	cr_assert_eq(ama_s3xml_list(&p, "pre/", XML(list_page1), NULL), 0);
	cr_assert_eq(p.n, 3);
	cr_assert_str_eq(p.entries[0].key, "a&b <c> 'd' \"e\"");
	cr_assert_eq(p.entries[0].info.size, 6);
	cr_assert_str_eq(p.entries[0].info.etag,
			 "b1946ac92492d2347c6235b4d2611184");
	cr_assert(p.entries[0].info.etag_is_md5);
	cr_assert_not(p.entries[0].info.multipart);
	cr_assert_str_eq(p.entries[1].key, "big");
	cr_assert_eq(p.entries[1].info.size, 314572800ULL);
	cr_assert_not(p.entries[1].info.etag_is_md5);
	cr_assert(p.entries[1].info.multipart);
	cr_assert_str_eq(p.entries[2].key, "utf8-\xc3\xa9");
	cr_assert_str_eq(p.next,
			 "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	ama_store_page_release(&p);
}

Test(s3xml, last_page_has_no_token)
{
	struct ama_store_page p;
	const char *x = "<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>k</Key><Size>1</Size><ETag>\"e\"</ETag></Contents>"
		"</ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "", XML(x), NULL), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_null(p.next);
	ama_store_page_release(&p);
}

Test(s3xml, keys_outside_the_prefix_are_skipped)
{
	struct ama_store_page p;
	const char *x = "<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>other/k</Key><Size>1</Size></Contents>"
		"<Contents><Key>pre/k</Key><Size>2</Size></Contents>"
		"</ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "pre/", XML(x), NULL), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.entries[0].key, "k");
	ama_store_page_release(&p);
}

Test(s3xml, url_encoded_keys_are_decoded)
{
	struct ama_store_page p;
	const char *x = "<ListBucketResult><EncodingType>url</EncodingType>"
		"<IsTruncated>false</IsTruncated>"
		"<Contents><Key>pre%2Fsp+ace%26%25%C3%A9%0A</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "pre/", XML(x), NULL), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.entries[0].key, "sp ace&%\xc3\xa9\n");
	ama_store_page_release(&p);
}

Test(s3xml, keys_are_decoded_when_the_encoding_type_comes_last)
{
	struct ama_store_page p;
	/* MinIO's order: EncodingType after Contents and CommonPrefixes */
	const char *x = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/"
		"2006-03-01/\"><Name>staging</Name><Prefix>pre%2F</Prefix>"
		"<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>"
		"<IsTruncated>false</IsTruncated>"
		"<Contents><Key>pre/sp+ace%2Bplus%25</Key><Size>1</Size>"
		"</Contents>"
		"<Contents><Key>other%2Fk</Key><Size>2</Size></Contents>"
		"<Contents><Key>pre%2Fk</Key><Size>3</Size></Contents>"
		"<EncodingType>url</EncodingType></ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "pre/", XML(x), NULL), 0);
	cr_assert_eq(p.n, 2);
	cr_assert_str_eq(p.entries[0].key, "sp ace+plus%");
	cr_assert_eq(p.entries[0].info.size, 1);
	cr_assert_str_eq(p.entries[1].key, "k");
	cr_assert_eq(p.entries[1].info.size, 3);
	ama_store_page_release(&p);
}

/* A listing of one url-encoded key. */
static int list_one(struct ama_store_page *p, const char *key)
{
	struct ama_buf x = AMA_BUF_INIT;
	int rc;

	ama_buf_addf(&x, "<ListBucketResult><EncodingType>url</EncodingType>"
		     "<IsTruncated>false</IsTruncated><Contents><Key>%s</Key>"
		     "<Size>1</Size></Contents></ListBucketResult>", key);
	rc = ama_s3xml_list(p, "", x.s, x.len, NULL);
	ama_buf_release(&x);
	return rc;
}

Test(s3xml, a_key_with_a_nul_or_not_utf8_is_corrupt)
{
	static const char *const bad[] = {
		"a%00b",		/* would be cut to "a" */
		"pre/sp+ace%26%B3%A9",	/* continuation bytes alone */
		"a%FF", "a%C3", "%C0%AF", "%ED%A0%80", "%F4%90%80%80",
	};
	struct ama_store_page p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(list_one(&p, bad[i]), AMA_ECORRUPT, "%s", bad[i]);
		cr_assert_str_eq(ama_error_msg(),
				 "the store's listing has a malformed entry");
		cr_assert_eq(p.n, 0);
		cr_assert_null(p.entries);
	}
	cr_assert_eq(list_one(&p, "%F0%9F%98%80%EF%BF%BD%7F"), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_str_eq(p.entries[0].key, "\xf0\x9f\x98\x80\xef\xbf\xbd\x7f");
	ama_store_page_release(&p);
}

Test(s3xml, a_truncated_listing_without_token_is_corrupt)
{
	struct ama_store_page p;
	const char *x = "<ListBucketResult><IsTruncated>true</IsTruncated>"
		"</ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "", XML(x), NULL), AMA_ECORRUPT);
	cr_assert_eq(p.n, 0);
}

Test(s3xml, a_bad_size_is_corrupt)
{
	struct ama_store_page p;
	const char *x = "<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>k</Key><Size>12x</Size></Contents>"
		"</ListBucketResult>";

	cr_assert_eq(ama_s3xml_list(&p, "", XML(x), NULL), AMA_ECORRUPT);
}

Test(s3xml, a_size_with_a_sign_or_spaces_is_corrupt)
{
	static const char *const bad[] = {
		"-14572800", "-1", "+5", " 5", "5 ", "", "18446744073709551616",
	};
	struct ama_store_page p;
	struct ama_buf x = AMA_BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ama_buf_reset(&x);
		ama_buf_addf(&x, "<ListBucketResult><IsTruncated>false"
			     "</IsTruncated><Contents><Key>k</Key><Size>%s"
			     "</Size></Contents></ListBucketResult>", bad[i]);
		cr_assert_eq(ama_s3xml_list(&p, "", x.s, x.len, NULL),
			     AMA_ECORRUPT, "'%s'", bad[i]);
		cr_assert_str_eq(ama_error_msg(),
				 "the store's listing has a malformed entry");
		cr_assert_eq(p.n, 0);
	}
	ama_buf_reset(&x);
	ama_buf_addstr(&x, "<ListBucketResult><IsTruncated>false</IsTruncated>"
		       "<Contents><Key>k</Key><Size>18446744073709551615"
		       "</Size></Contents></ListBucketResult>");
	cr_assert_eq(ama_s3xml_list(&p, "", x.s, x.len, NULL), 0);
	cr_assert_eq(p.entries[0].info.size, UINT64_MAX);
	ama_store_page_release(&p);
	ama_buf_release(&x);
}

Test(s3xml, a_listing_that_is_an_error_says_so)
{
	struct ama_store_page p;
	struct ama_s3_error e;
	const char *x = "<Error><Code>AccessDenied</Code>"
		"<Message>Access Denied</Message></Error>";

	cr_assert_eq(ama_s3xml_list(&p, "", XML(x), &e), AMA_EREMOTE);
	cr_assert_str_eq(e.code, "AccessDenied");
	cr_assert_str_eq(ama_error_msg(), "AccessDenied: Access Denied");
}

Test(s3xml, upload_id)
{
	char *id;
	const char *x = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult "
		"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Bucket>b</Bucket><Key>k</Key>"
		"<UploadId>VXBsb2FkIElE&amp;x</UploadId>"
		"</InitiateMultipartUploadResult>";

	cr_assert_eq(ama_s3xml_upload_id(&id, XML(x), NULL), 0);
	cr_assert_str_eq(id, "VXBsb2FkIElE&x");
	free(id);
	cr_assert_eq(ama_s3xml_upload_id(&id, XML("<InitiateMultipartUploadResult/>"),
					 NULL), AMA_ECORRUPT);
	cr_assert_null(id);
}

Test(s3xml, etag_of_complete_and_copies)
{
	char etag[80];

	cr_assert_eq(ama_s3xml_etag(etag, XML(
		"<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Location>http://x/b/k</Location><Bucket>b</Bucket><Key>k</Key>"
		"<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
		"</CompleteMultipartUploadResult>"), NULL), 0);
	cr_assert_str_eq(etag, "3858f62230ac3c915f300c664312c11f-9");
	cr_assert_eq(ama_s3xml_etag(etag, XML(
		"<CopyObjectResult><LastModified>2026-11-25T21:03:44.000Z</LastModified>"
		"<ETag>&quot;764efa883dda1e11db47671c4a3bbd9e&quot;</ETag></CopyObjectResult>"),
		NULL), 0);
	cr_assert_str_eq(etag, "764efa883dda1e11db47671c4a3bbd9e");
	cr_assert_eq(ama_s3xml_etag(etag, XML(
		"<CopyPartResult><ETag>\"abc\"</ETag></CopyPartResult>"), NULL), 0);
	cr_assert_str_eq(etag, "abc");
}

Test(s3xml, an_error_inside_a_200_answer_is_found)
{
	struct ama_s3_error e;
	char etag[80];

	cr_assert_eq(ama_s3xml_etag(etag, XML(
		"<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code>"
		"<Message>We encountered an internal error.</Message></Error>"),
		&e), AMA_EREMOTE);
	cr_assert_str_eq(e.code, "InternalError");
	cr_assert_str_eq(etag, "");
}

Test(s3xml, etag_unquoting)
{
	char out[80];

	ama_s3_etag_unquote(out, " \"abc\" ", 7);
	cr_assert_str_eq(out, "abc");
	ama_s3_etag_unquote(out, "abc", 3);
	cr_assert_str_eq(out, "abc");
	ama_s3_etag_unquote(out, "\"", 1);
	cr_assert_str_eq(out, "\"");
}

Test(s3xml, delete_result_counts_its_errors)
{
	struct ama_s3_error first, e;
	size_t n = 99;

	cr_assert_eq(ama_s3xml_delete_result(&n, &first, XML(
		"<?xml version=\"1.0\"?>\n<DeleteResult xmlns=\"http://s3."
		"amazonaws.com/doc/2006-03-01/\"><Deleted><Key>a</Key>"
		"</Deleted></DeleteResult>"), &e), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(ama_s3xml_delete_result(&n, &first, XML(
		"<DeleteResult><Deleted><Key>a</Key></Deleted>"
		"<Error><Key>p/b&amp;c</Key><Code>AccessDenied</Code>"
		"<Message>Access Denied</Message></Error>"
		"<Error><Key>p/d</Key><Code>InternalError</Code>"
		"<Message>later</Message></Error></DeleteResult>"), &e), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(first.key, "p/b&c");
	cr_assert_str_eq(first.code, "AccessDenied");
	cr_assert_str_eq(first.message, "Access Denied");
	cr_assert_eq(ama_s3xml_delete_result(&n, &first, XML(
		"<Error><Code>MalformedXML</Code><Message>no</Message>"
		"</Error>"), &e), AMA_EREMOTE);
	cr_assert_str_eq(e.code, "MalformedXML");
	cr_assert_eq(ama_s3xml_delete_result(&n, &first, XML(
		"<ListBucketResult></ListBucketResult>"), &e), AMA_ECORRUPT);
}
