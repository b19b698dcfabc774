/* s3creds.c: resolving an S3 store's endpoint, region and keys (profiles parsed with inih). */
#include "auto-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "error.h"
#include "s3creds.h"

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void ama_s3_creds_release(struct ama_s3_creds *c)
{
	free(c->key_id);
	wipe_free(c->secret);
	wipe_free(c->token);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

void ama_s3_settings_release(struct ama_s3_settings *s)
{
	free(s->endpoint);
	free(s->region);
	ama_s3_creds_release(&s->creds);
	memset(s, 0, sizeof(*s));
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static char *home_file(const char *envname, const char *rel)
{
	struct ama_buf b = AMA_BUF_INIT;
	const char *v = env(envname);

	if (v)
		return ama_strdup(v);
	v = env("HOME");
	ama_buf_addf(&b, "%s/%s", v ? v : "", rel);
	return ama_buf_detach(&b);
}

char *ama_s3_credentials_path(void)
{
	return home_file("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
}

/* What the inih handler looks for, and what it found. */
struct profile_scan {
	const char *section;	/* "NAME" or "profile NAME" */
	const char *alt;	/* another accepted section name, or NULL */
	int found;
	char *key_id, *secret, *token, *region;
};

static int scan_handler(void *user, const char *section, const char *key,
			const char *value)
{
	struct profile_scan *p = user;
	char **slot = NULL;

	if (strcmp(section, p->section) && !(p->alt && !strcmp(section, p->alt)))
		return 1;
	p->found = 1;
	if (!key)
		return 1;
	if (!strcasecmp(key, "aws_access_key_id"))
		slot = &p->key_id;
	else if (!strcasecmp(key, "aws_secret_access_key"))
		slot = &p->secret;
	else if (!strcasecmp(key, "aws_session_token"))
		slot = &p->token;
	else if (!strcasecmp(key, "region"))
		slot = &p->region;
	if (slot) {
		wipe_free(*slot);
		*slot = ama_strdup(value ? value : "");
	}
	return 1;
}

static void scan_release(struct profile_scan *p)
{
	free(p->key_id);
	wipe_free(p->secret);
	wipe_free(p->token);
	free(p->region);
}

/* Parse path looking for p's section: 0, AMA_ENOTFOUND (no file), AMA_EIO, AMA_ESETUP. */
static int scan_file(struct profile_scan *p, const char *path)
{
	/* session tokens run to thousands of bytes */
	return ama_ini_parse_file(path, AMA_INI_LONG_VALUES | AMA_INI_SECRET,
				  AMA_EIO, scan_handler, p);
}

int ama_s3_profile_read(struct ama_s3_creds *out, const char *path,
			const char *profile)
{
	struct profile_scan p = { profile, NULL, 0, NULL, NULL, NULL, NULL };
	struct ama_buf src = AMA_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = scan_file(&p, path);
	if (rc == AMA_ENOTFOUND)
		rc = ama_error_setp(AMA_ENOTFOUND, path,
				    "no such credentials file");
	else if (rc == 0 && !p.found)
		rc = ama_error_setp(AMA_ENOTFOUND, path, "no profile '%s'",
				    profile);
	else if (rc == 0 && (!p.key_id || !*p.key_id || !p.secret ||
			     !*p.secret))
		rc = ama_error_setp(AMA_ESETUP, path,
			"profile '%s' lacks aws_access_key_id or "
			"aws_secret_access_key", profile);
	if (rc < 0)
		goto out;
	out->key_id = p.key_id;
	out->secret = p.secret;
	out->token = p.token && *p.token ? p.token : NULL;
	if (!out->token)
		wipe_free(p.token);
	p.key_id = p.secret = p.token = NULL;
	ama_buf_addf(&src, "profile '%s' in %s", profile, path);
	out->source = ama_buf_detach(&src);
out:
	scan_release(&p);
	return rc;
}

/* The region of profile in the aws config file (NULL if none); caller frees. */
static char *profile_region(const char *profile)
{
	struct ama_buf sect = AMA_BUF_INIT;
	struct profile_scan p = { NULL, NULL, 0, NULL, NULL, NULL, NULL };
	char *path = home_file("AWS_CONFIG_FILE", ".aws/config");
	char *region = NULL;

	ama_buf_addf(&sect, "profile %s", profile);
	p.section = sect.s;
	p.alt = !strcmp(profile, "default") ? "default" : NULL;
	if (scan_file(&p, path) == 0 && p.region && *p.region) {
		region = p.region;
		p.region = NULL;
	}
	ama_error_clear();
	scan_release(&p);
	ama_buf_release(&sect);
	free(path);
	return region;
}

static int load_creds(struct ama_s3_creds *out, const struct ama_config *cfg,
		      const char *role, const char **profile_used)
{
	char key[64], envname[128];
	const char *profile = NULL, *id, *secret;
	char *path = ama_s3_credentials_path();
	int rc;

	*profile_used = NULL;
	if (role) {
		snprintf(key, sizeof(key), "%s-profile", role);
		profile = ama_config_get(cfg, "s3", key);
		if (profile && !*profile)
			profile = NULL;
	}
	if (profile) {
		/* a profile named in the configuration must be there */
		rc = ama_s3_profile_read(out, path, profile);
		if (rc == AMA_ENOTFOUND) {
			ama_config_env_name(envname, "s3", key);
			rc = ama_error_wrap(AMA_ESETUP,
				"[s3] %s (or %s) names profile '%s'", key,
				envname, profile);
		}
		*profile_used = profile;
		goto out;
	}
	id = env("AWS_ACCESS_KEY_ID");
	secret = env("AWS_SECRET_ACCESS_KEY");
	if (!id != !secret) {
		/* as the aws CLI: half a key pair is a mistake, not a miss */
		rc = ama_error_set(AMA_ESETUP, "partial credentials in the "
				   "environment: %s is set, %s is not",
				   id ? "AWS_ACCESS_KEY_ID" :
				   "AWS_SECRET_ACCESS_KEY",
				   id ? "AWS_SECRET_ACCESS_KEY" :
				   "AWS_ACCESS_KEY_ID");
		goto out;
	}
	if (id && secret) {
		memset(out, 0, sizeof(*out));
		out->key_id = ama_strdup(id);
		out->secret = ama_strdup(secret);
		if (env("AWS_SESSION_TOKEN"))
			out->token = ama_strdup(env("AWS_SESSION_TOKEN"));
		out->source = ama_strdup("environment");
		/* the region still comes from AWS_PROFILE's, as for aws */
		*profile_used = env("AWS_PROFILE");
		rc = 0;
		goto out;
	}
	profile = env("AWS_PROFILE");
	if (profile) {
		rc = ama_s3_profile_read(out, path, profile);
		if (rc == AMA_ENOTFOUND)
			rc = ama_error_wrap(AMA_ESETUP,
				"AWS_PROFILE names profile '%s'", profile);
		*profile_used = profile;
		goto out;
	}
	rc = ama_s3_profile_read(out, path, "default");
	*profile_used = "default";
	if (rc == AMA_ENOTFOUND)
		rc = ama_error_set(AMA_ESETUP,
			"no S3 credentials: set [s3] %s-profile, AWS_PROFILE or "
			"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write a "
			"[default] profile in %s", role ? role : "staging", path);
out:
	free(path);
	return rc;
}

int ama_s3_settings_load(struct ama_s3_settings *out,
			 const struct ama_config *cfg, const char *role)
{
	const char *v, *profile = NULL;
	struct ama_buf b = AMA_BUF_INIT;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	v = ama_config_get(cfg, "s3", "addressing");
	if (v && strcmp(v, "path") && strcmp(v, "virtual"))
		return ama_error_set(AMA_ESETUP,
			"[s3] addressing: '%s' is not 'path' or 'virtual'", v);
	out->virtual_host = v && !strcmp(v, "virtual");
	rc = load_creds(&out->creds, cfg, role, &profile);
	if (rc < 0)
		goto fail;

	v = ama_config_get(cfg, "s3", "region");
	if (!v || !*v)
		v = env("AWS_REGION");
	if (!v)
		v = env("AWS_DEFAULT_REGION");
	if (v)
		out->region = ama_strdup(v);
	else
		out->region = profile_region(profile ? profile : "default");
	if (!out->region)
		out->region = ama_strdup("us-east-1");

	v = ama_config_get(cfg, "s3", "endpoint");
	if (!v || !*v)
		v = env("AWS_ENDPOINT_URL_S3");
	if (!v)
		v = env("AWS_ENDPOINT_URL");
	if (v) {
		ama_buf_addstr(&b, v);
	} else {
		ama_buf_addf(&b, "https://s3.%s.amazonaws.com", out->region);
	}
	n = b.len;
	while (n > 0 && b.s[n - 1] == '/')
		n--;
	ama_buf_truncate(&b, n);
	if (strncmp(b.s, "http://", 7) && strncmp(b.s, "https://", 8)) {
		rc = ama_error_set(AMA_ESETUP,
			"S3 endpoint '%s' is not an http:// or https:// URL",
			b.s);
		ama_buf_release(&b);
		goto fail;
	}
	out->endpoint = ama_buf_detach(&b);
	return 0;
fail:
	ama_s3_settings_release(out);
	return rc;
}
