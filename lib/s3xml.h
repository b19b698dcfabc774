/* s3xml.h: reading S3's XML answers (expat): listings, uploads, copies, errors. */
#ifndef AMA_S3XML_H
#define AMA_S3XML_H

#include <stddef.h>

#include "store.h"

/* An S3 <Error>: its Code, Message, and the BucketName or Key it names. */
struct ama_s3_error {
	char code[64];
	char message[256];
	char bucket[256];
	char key[256];
};

/*
 * Each parser takes the whole body (xml, len). They return 0, or
 * AMA_EREMOTE ("the store answered with an <Error>") after filling err
 * (may be NULL) when the root element is <Error> (S3 can answer 200 with
 * an error to a CompleteMultipartUpload or a CopyObject), or AMA_ECORRUPT
 * for XML that is not well formed or lacks what the answer must hold.
 * Entities (&amp; ...) come out decoded.
 */

/* An error body. 0 and err filled if the root is <Error>, else AMA_ECORRUPT. */
int ama_s3xml_error(struct ama_s3_error *err, const char *xml, size_t len);

/*
 * ListObjectsV2 (ListBucketResult): entries with keys stripped of
 * strip_prefix (keys not under it are skipped), url-decoded when the
 * answer says EncodingType url (before or after the keys: MinIO puts it
 * last); out->next gets NextContinuationToken when IsTruncated is true.
 * A key that is not valid UTF-8 or holds a NUL once decoded (S3 has no
 * such keys) makes the answer AMA_ECORRUPT. Free with
 * ama_store_page_release().
 */
int ama_s3xml_list(struct ama_store_page *out, const char *strip_prefix,
		   const char *xml, size_t len, struct ama_s3_error *err);

/* InitiateMultipartUploadResult: the UploadId; caller frees. */
int ama_s3xml_upload_id(char **out, const char *xml, size_t len,
			struct ama_s3_error *err);

/*
 * CompleteMultipartUploadResult, CopyObjectResult or CopyPartResult: the
 * ETag, unquoted, into etag (80 bytes).
 */
int ama_s3xml_etag(char *etag, const char *xml, size_t len,
		   struct ama_s3_error *err);

/*
 * DeleteResult (DeleteObjects): the number of <Error> entries into
 * nerrors, the first of them into first (may be NULL); <Deleted> entries
 * are skipped.
 */
int ama_s3xml_delete_result(size_t *nerrors, struct ama_s3_error *first,
			    const char *xml, size_t len,
			    struct ama_s3_error *err);

/* Strip surrounding quotes (and &quot;-decoded ones) from an ETag into out (80 bytes). */
void ama_s3_etag_unquote(char *out, const char *etag, size_t n);

#endif
