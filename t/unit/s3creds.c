/* t/unit/s3creds.c: where an S3 store's endpoint, region and keys come from. */
#include "auto-config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "buf.h"
#include "error.h"
#include "s3creds.h"

static char dir[32];
static char creds_path[64];	/* DIR/.aws/credentials */

/* Each test in a fresh HOME, with no AWS_* or AMA_* variable from outside. */
static void setup(void)
{
	extern char **environ;
	char **e;

	for (e = environ; *e;) {
		if (!strncmp(*e, "AWS_", 4) || !strncmp(*e, "AMA_", 4)) {
			char name[256];

			snprintf(name, sizeof(name), "%.*s",
				 (int)(strchrnul(*e, '=') - *e), *e);
			unsetenv(name);
			continue;	/* the array moved up */
		}
		e++;
	}
	strcpy(dir, "/tmp/ama-s3creds-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
	setenv("HOME", dir, 1);
	cr_assert_eq(mkdir(".aws", 0700), 0);
	snprintf(creds_path, sizeof(creds_path), "%s/.aws/credentials", dir);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void teardown(void)
{
	if (!dir[0] || chdir("/") < 0)
		return;
	if (nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS) < 0)
		cr_log_warn("cannot remove %s", dir);
}

TestSuite(profile, .init = setup, .fini = teardown);
TestSuite(s3creds, .init = setup, .fini = teardown);

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

/* What `aws configure` users have, and a few broken profiles. */
static const char credentials[] =
	"# written by aws configure\n"
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = defaultSECRET/x+y\n"
	"; a comment\n"
	"[p1]\n"
	"aws_access_key_id=AKIAP1\n"
	"aws_secret_access_key=p1SECRET\n"
	"aws_session_token = p1TOKEN\n"
	"[colon]\n"
	"aws_access_key_id: AKIACOLON\n"
	"aws_secret_access_key: colonSECRET\n"
	"[nosecret]\n"
	"aws_access_key_id = AKIAHALF\n"
	"[nokey]\n"
	"aws_secret_access_key = nokeySECRET\n"
	"[emptysecret]\n"
	"aws_access_key_id = AKIAEMPTY\n"
	"aws_secret_access_key =\n"
	"[emptytoken]\n"
	"aws_access_key_id = AKIAET\n"
	"aws_secret_access_key = etSECRET\n"
	"aws_session_token =\n"
	"[profile named]\n"
	"aws_access_key_id = AKIANAMED\n"
	"aws_secret_access_key = namedSECRET\n";

/* Every secret and token above, and those the tests put in variables. */
static const char *const secrets[] = {
	"defaultSECRET", "p1SECRET", "p1TOKEN", "colonSECRET", "nokeySECRET",
	"etSECRET", "namedSECRET", "envSECRET", "envTOKEN", "cfgSECRET",
	"synSECRET",
};

static void put_credentials(void)
{
	put_file(".aws/credentials", credentials);
}

/* ~/.aws/config: regions, with "profile " before every name but default. */
static void put_aws_config(void)
{
	put_file(".aws/config", "[default]\nregion = eu-west-3\n"
		 "[profile p1]\nregion = ap-south-1\n"
		 "[colon]\nregion = wrong-1\n");
}

static void set_env_keys(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envSECRET", 1);
}

/* An ama config of text (NULL: none at all). */
static struct ama_config *config_of(const char *text)
{
	struct ama_config *c;

	if (!text)
		return NULL;
	put_file("ama-config", text);
	cr_assert_eq(ama_config_load_file(&c, "ama-config"), 0);
	return c;
}

static void load(struct ama_s3_settings *s, const struct ama_config *cfg,
		 const char *role, int want)
{
	int rc;

	memset(s, 0x5a, sizeof(*s));
	rc = ama_s3_settings_load(s, cfg, role);
	cr_assert_eq(rc, want, "rc %d: %s", rc, ama_error_msg());
}

static void assert_msg(const char *want)
{
	cr_assert_str_eq(ama_error_msg(), want, "the message is [%s]",
			 ama_error_msg());
}

static void assert_path(const char *want)
{
	if (!want)
		cr_assert_null(ama_error_path(), "the path is [%s]",
			       ama_error_path());
	else
		cr_assert_str_eq(ama_error_path() ? ama_error_path() : "(none)",
				 want);
}

/* A failed load leaves nothing to release. */
static void assert_empty(const struct ama_s3_settings *s)
{
	cr_assert_null(s->endpoint);
	cr_assert_null(s->region);
	cr_assert_eq(s->virtual_host, 0);
	cr_assert_null(s->creds.key_id);
	cr_assert_null(s->creds.secret);
	cr_assert_null(s->creds.token);
	cr_assert_null(s->creds.source);
}

static void assert_no_secret(const char *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_assert_null(strstr(s, secrets[i]), "[%s] shows %s", s,
			       secrets[i]);
}

static void assert_error_keeps_secrets(void)
{
	assert_no_secret(ama_error_msg());
	assert_no_secret(ama_error_path());
}

static char *source_in(const char *profile, const char *path)
{
	static char s[160];

	snprintf(s, sizeof(s), "profile '%s' in %s", profile, path);
	return s;
}

/* --- reading one profile --- */

Test(profile, the_credentials_file_is_in_home_unless_the_variable_moves_it)
{
	char *p = ama_s3_credentials_path();

	cr_assert_str_eq(p, creds_path);
	free(p);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/creds", 1);
	p = ama_s3_credentials_path();
	cr_assert_str_eq(p, "/etc/aws/creds");
	free(p);
	/* set but empty is unset */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "", 1);
	p = ama_s3_credentials_path();
	cr_assert_str_eq(p, creds_path);
	free(p);
	setenv("HOME", "/home/someone", 1);
	p = ama_s3_credentials_path();
	cr_assert_str_eq(p, "/home/someone/.aws/credentials");
	free(p);
}

Test(profile, a_profile_gives_its_keys_and_says_where_they_came_from)
{
	struct ama_s3_creds c;

	put_credentials();
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "p1"), 0);
	cr_assert_str_eq(c.key_id, "AKIAP1");
	cr_assert_str_eq(c.secret, "p1SECRET");
	cr_assert_str_eq(c.token, "p1TOKEN");
	cr_assert_str_eq(c.source, source_in("p1", creds_path));
	ama_s3_creds_release(&c);
	/* comments are skipped, spaces around '=' trimmed */
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "default"), 0);
	cr_assert_str_eq(c.key_id, "AKIADEFAULT");
	cr_assert_str_eq(c.secret, "defaultSECRET/x+y");
	cr_assert_null(c.token);
	cr_assert_str_eq(c.source, source_in("default", creds_path));
	ama_s3_creds_release(&c);
	/* ':' separates as '=' does, as in Python's configparser */
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "colon"), 0);
	cr_assert_str_eq(c.key_id, "AKIACOLON");
	cr_assert_str_eq(c.secret, "colonSECRET");
	ama_s3_creds_release(&c);
}

Test(profile, an_empty_session_token_is_no_token)
{
	struct ama_s3_creds c;

	put_credentials();
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "emptytoken"), 0);
	cr_assert_str_eq(c.key_id, "AKIAET");
	cr_assert_null(c.token);
	ama_s3_creds_release(&c);
}

Test(profile, the_last_value_of_a_key_wins)
{
	struct ama_s3_creds c;

	put_file("creds", "[default]\naws_access_key_id = OLD\n"
		 "aws_secret_access_key = s1\n[other]\n"
		 "aws_access_key_id = NOT\n[default]\n"
		 "aws_access_key_id = NEW\n");
	cr_assert_eq(ama_s3_profile_read(&c, "creds", "default"), 0);
	cr_assert_str_eq(c.key_id, "NEW");
	cr_assert_str_eq(c.secret, "s1");
	ama_s3_creds_release(&c);
}

Test(profile, a_missing_file_is_not_found)
{
	struct ama_s3_creds c;

	memset(&c, 0x5a, sizeof(c));
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "default"),
		     AMA_ENOTFOUND);
	assert_path(creds_path);
	assert_msg("no such credentials file");
	cr_assert_null(c.key_id);
	cr_assert_null(c.secret);
	cr_assert_null(c.token);
	cr_assert_null(c.source);
	/* a path through a file is no file either */
	put_file("plain", "x");
	cr_assert_eq(ama_s3_profile_read(&c, "plain/credentials", "default"),
		     AMA_ENOTFOUND);
	assert_path("plain/credentials");
	assert_msg("no such credentials file");
}

Test(profile, a_missing_profile_is_not_found)
{
	struct ama_s3_creds c;

	put_credentials();
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "p9"),
		     AMA_ENOTFOUND);
	assert_path(creds_path);
	assert_msg("no profile 'p9'");
	cr_assert_null(c.source);
	/* the credentials file names profiles without "profile " */
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "named"),
		     AMA_ENOTFOUND);
	assert_msg("no profile 'named'");
}

Test(profile, a_profile_without_both_keys_is_a_setup_error)
{
	static const char *const half[] = {
		"nosecret", "nokey", "emptysecret",
	};
	struct ama_s3_creds c;
	char want[128];
	size_t i;

	put_credentials();
	for (i = 0; i < sizeof(half) / sizeof(half[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		cr_assert_eq(ama_s3_profile_read(&c, creds_path, half[i]),
			     AMA_ESETUP, "%s", half[i]);
		assert_path(creds_path);
		snprintf(want, sizeof(want), "profile '%s' lacks "
			 "aws_access_key_id or aws_secret_access_key", half[i]);
		assert_msg(want);
		assert_error_keeps_secrets();
		cr_assert_null(c.key_id);
		cr_assert_null(c.secret);
		cr_assert_null(c.source);
	}
}

Test(profile, a_syntax_error_is_a_setup_error_at_its_line)
{
	struct ama_s3_creds c;

	put_file("creds", "[default]\naws_access_key_id = A\n"
		 "aws_secret_access_key synSECRET\n");
	cr_assert_eq(ama_s3_profile_read(&c, "creds", "default"), AMA_ESETUP);
	assert_path("creds");
	assert_msg("line 3: not valid INI");
	cr_assert_null(c.key_id);
	cr_assert_null(c.secret);
}

/* STS and SSO session tokens run to a thousand bytes and more */
Test(profile, a_long_session_token_is_read_whole)
{
	struct ama_s3_creds c;
	struct ama_buf f = AMA_BUF_INIT, token = AMA_BUF_INIT;
	int i;

	for (i = 0; i < 1200; i++)
		ama_buf_addch(&token, "AbC+/9"[i % 6]);
	ama_buf_addstr(&token, "==");
	ama_buf_addstr(&f, "[default]\naws_access_key_id = AKIALONG\n");
	ama_buf_addstr(&f, "# ");
	for (i = 0; i < 300; i++)
		ama_buf_addch(&f, 'c');	/* a long comment too */
	ama_buf_addf(&f, "\naws_secret_access_key=longSECRET\n"
		     "aws_session_token =  %s \r\n[other]\nx = y\n", token.s);
	put_file("creds", f.s);
	cr_assert_eq(ama_s3_profile_read(&c, "creds", "default"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(c.key_id, "AKIALONG");
	cr_assert_str_eq(c.secret, "longSECRET");
	cr_assert_str_eq(c.token, token.s);
	ama_s3_creds_release(&c);
	ama_buf_release(&f);
	ama_buf_release(&token);
}

Test(profile, a_long_line_that_is_not_a_key_is_a_setup_error)
{
	struct ama_s3_creds c;
	struct ama_buf f = AMA_BUF_INIT;
	int i;

	ama_buf_addstr(&f, "[default]\naws_access_key_id = A\n[");
	for (i = 0; i < 300; i++)
		ama_buf_addch(&f, 's');
	ama_buf_addstr(&f, "]\n");
	put_file("creds", f.s);
	cr_assert_eq(ama_s3_profile_read(&c, "creds", "default"), AMA_ESETUP);
	assert_path("creds");
	assert_msg("line 3: longer than 199 bytes and not a key = value line");
	ama_buf_release(&f);
}

Test(profile, a_file_that_cannot_be_opened_is_an_io_error)
{
	struct ama_s3_creds c;

	cr_assert_eq(symlink("loop", "loop"), 0);
	cr_assert_eq(ama_s3_profile_read(&c, "loop", "default"), AMA_EIO);
	assert_path("loop");
	assert_msg("cannot read: Too many levels of symbolic links");
	cr_assert_null(c.source);
}

Test(profile, release_leaves_an_empty_struct)
{
	struct ama_s3_creds c;

	put_credentials();
	cr_assert_eq(ama_s3_profile_read(&c, creds_path, "p1"), 0);
	ama_s3_creds_release(&c);
	cr_assert_null(c.key_id);
	cr_assert_null(c.secret);
	cr_assert_null(c.token);
	cr_assert_null(c.source);
	/* twice is harmless */
	ama_s3_creds_release(&c);
}

/* --- the keys of a store --- */

static void assert_no_credentials(const char *role, const char *path)
{
	char want[512];

	snprintf(want, sizeof(want), "no S3 credentials: set [s3] "
		 "%s-profile, AWS_PROFILE or AWS_ACCESS_KEY_ID and "
		 "AWS_SECRET_ACCESS_KEY, or write a [default] profile in %s",
		 role, path);
	assert_msg(want);
	assert_path(NULL);
}

Test(s3creds, no_keys_anywhere_is_a_setup_error_that_says_where_to_look)
{
	struct ama_s3_settings s;

	load(&s, NULL, "staging", AMA_ESETUP);
	assert_no_credentials("staging", creds_path);
	assert_empty(&s);
	load(&s, NULL, "remote", AMA_ESETUP);
	assert_no_credentials("remote", creds_path);
	load(&s, NULL, "server", AMA_ESETUP);
	assert_no_credentials("server", creds_path);
	/* a credentials file without [default] is no better */
	put_file(".aws/credentials", "[p1]\naws_access_key_id = A\n"
		 "aws_secret_access_key = p1SECRET\n");
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_no_credentials("staging", creds_path);
	assert_error_keeps_secrets();
	assert_empty(&s);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/creds", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_no_credentials("staging", "/nonexistent/creds");
}

Test(s3creds, one_environment_key_without_the_other_is_not_a_pair)
{
	struct ama_s3_settings s;

	/* as the aws CLI: an error, even with a default profile to fall to */
	put_credentials();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("partial credentials in the environment: "
		   "AWS_ACCESS_KEY_ID is set, AWS_SECRET_ACCESS_KEY is not");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "envSECRET", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("partial credentials in the environment: "
		   "AWS_SECRET_ACCESS_KEY is set, AWS_ACCESS_KEY_ID is not");
	assert_error_keeps_secrets();
	assert_empty(&s);
}

/* keys with the environment's pair: the region is still AWS_PROFILE's */
Test(s3creds, environment_keys_take_the_region_of_aws_profile)
{
	struct ama_s3_settings s;

	put_credentials();
	put_aws_config();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envSECRET", 1);
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	cr_assert_str_eq(s.region, "ap-south-1");
	ama_s3_settings_release(&s);
}

/* Python's configparser, which the aws CLI uses, folds key names */
Test(profile, key_names_are_not_case_sensitive)
{
	struct ama_s3_creds c;

	put_file("creds", "[default]\nAWS_ACCESS_KEY_ID = AKIAUP\n"
		 "Aws_Secret_Access_Key = upSECRET\n");
	cr_assert_eq(ama_s3_profile_read(&c, "creds", "default"), 0, "%s",
		     ama_error_msg());
	cr_assert_str_eq(c.key_id, "AKIAUP");
	cr_assert_str_eq(c.secret, "upSECRET");
	ama_s3_creds_release(&c);
}

Test(s3creds, environment_keys_with_their_token_and_the_aws_defaults)
{
	struct ama_s3_settings s;

	set_env_keys();
	setenv("AWS_SESSION_TOKEN", "envTOKEN", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	cr_assert_str_eq(s.creds.secret, "envSECRET");
	cr_assert_str_eq(s.creds.token, "envTOKEN");
	cr_assert_str_eq(s.creds.source, "environment");
	cr_assert_str_eq(s.region, "us-east-1");
	cr_assert_str_eq(s.endpoint, "https://s3.us-east-1.amazonaws.com");
	cr_assert_eq(s.virtual_host, 0);
	ama_s3_settings_release(&s);
	/* an empty token is none */
	setenv("AWS_SESSION_TOKEN", "", 1);
	load(&s, NULL, NULL, 0);
	cr_assert_null(s.creds.token);
	ama_s3_settings_release(&s);
}

Test(s3creds, environment_keys_beat_aws_profile_and_the_default_profile)
{
	struct ama_s3_settings s;

	put_credentials();
	set_env_keys();
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	cr_assert_str_eq(s.creds.secret, "envSECRET");
	cr_assert_null(s.creds.token);
	cr_assert_str_eq(s.creds.source, "environment");
	ama_s3_settings_release(&s);
}

Test(s3creds, the_default_profile_when_nothing_else_is_set)
{
	struct ama_s3_settings s;

	put_credentials();
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIADEFAULT");
	cr_assert_str_eq(s.creds.secret, "defaultSECRET/x+y");
	cr_assert_null(s.creds.token);
	cr_assert_str_eq(s.creds.source, source_in("default", creds_path));
	ama_s3_settings_release(&s);
}

Test(s3creds, the_shared_credentials_file_variable_moves_the_file)
{
	struct ama_s3_settings s;

	put_credentials();
	put_file("elsewhere", "[default]\naws_access_key_id = AKIAELSE\n"
		 "aws_secret_access_key = elseSECRET\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "elsewhere", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAELSE");
	cr_assert_str_eq(s.creds.source, "profile 'default' in elsewhere");
	ama_s3_settings_release(&s);
}

Test(s3creds, aws_profile_names_the_profile)
{
	struct ama_s3_settings s;

	put_credentials();
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "remote", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAP1");
	cr_assert_str_eq(s.creds.secret, "p1SECRET");
	cr_assert_str_eq(s.creds.token, "p1TOKEN");
	cr_assert_str_eq(s.creds.source, source_in("p1", creds_path));
	ama_s3_settings_release(&s);
}

Test(s3creds, the_session_token_variable_goes_only_with_the_key_variables)
{
	struct ama_s3_settings s;

	put_credentials();
	setenv("AWS_SESSION_TOKEN", "envTOKEN", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIADEFAULT");
	cr_assert_null(s.creds.token);
	ama_s3_settings_release(&s);
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.creds.token, "p1TOKEN");
	ama_s3_settings_release(&s);
}

Test(s3creds, a_profile_that_aws_profile_names_must_be_there)
{
	struct ama_s3_settings s;

	setenv("AWS_PROFILE", "p9", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("AWS_PROFILE names profile 'p9': no such credentials file");
	assert_path(creds_path);
	assert_empty(&s);
	/* no falling back on [default] */
	put_credentials();
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("AWS_PROFILE names profile 'p9': no profile 'p9'");
	assert_path(creds_path);
	assert_empty(&s);
	setenv("AWS_PROFILE", "nokey", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("profile 'nokey' lacks aws_access_key_id or "
		   "aws_secret_access_key");
	assert_path(creds_path);
	assert_error_keeps_secrets();
	assert_empty(&s);
}

Test(s3creds, a_broken_credentials_file_is_not_skipped)
{
	struct ama_s3_settings s;

	put_file(".aws/credentials", "[default]\n"
		 "aws_access_key_id = A\nnot an entry\n");
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("line 3: not valid INI");
	assert_path(creds_path);
	cr_assert_eq(unlink(".aws/credentials"), 0);
	cr_assert_eq(symlink("credentials", ".aws/credentials"), 0);
	load(&s, NULL, "staging", AMA_EIO);
	assert_msg("cannot read: Too many levels of symbolic links");
	assert_path(creds_path);
	assert_empty(&s);
}

Test(s3creds, the_role_profile_of_the_ama_config_beats_everything)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of("[s3]\nstaging-profile = p1\n"
					   "server-profile = colon\n");

	put_credentials();
	set_env_keys();
	setenv("AWS_PROFILE", "default", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAP1");
	cr_assert_str_eq(s.creds.token, "p1TOKEN");
	cr_assert_str_eq(s.creds.source, source_in("p1", creds_path));
	ama_s3_settings_release(&s);
	load(&s, cfg, "server", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIACOLON");
	ama_s3_settings_release(&s);
	/* other roles, and none, do not use it */
	load(&s, cfg, "remote", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	ama_s3_settings_release(&s);
	load(&s, cfg, NULL, 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	ama_s3_settings_release(&s);
	/* the AMA_* variable beats the file */
	setenv("AMA_S3_STAGING_PROFILE", "colon", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIACOLON");
	ama_s3_settings_release(&s);
	/* and, empty, names no profile */
	setenv("AMA_S3_STAGING_PROFILE", "", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.creds.key_id, "AKIAENV");
	ama_s3_settings_release(&s);
	ama_config_free(cfg);
}

Test(s3creds, a_role_profile_that_is_not_there_is_a_setup_error)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of("[s3]\nstaging-profile = gone\n");

	set_env_keys();
	load(&s, cfg, "staging", AMA_ESETUP);
	assert_msg("[s3] staging-profile (or AMA_S3_STAGING_PROFILE) names "
		   "profile 'gone': no such credentials file");
	assert_path(creds_path);
	assert_empty(&s);
	put_credentials();
	load(&s, cfg, "staging", AMA_ESETUP);
	assert_msg("[s3] staging-profile (or AMA_S3_STAGING_PROFILE) names "
		   "profile 'gone': no profile 'gone'");
	assert_path(creds_path);
	setenv("AMA_S3_REMOTE_PROFILE", "p9", 1);
	load(&s, NULL, "remote", AMA_ESETUP);
	assert_msg("[s3] remote-profile (or AMA_S3_REMOTE_PROFILE) names "
		   "profile 'p9': no profile 'p9'");
	setenv("AMA_S3_REMOTE_PROFILE", "emptysecret", 1);
	load(&s, NULL, "remote", AMA_ESETUP);
	assert_msg("profile 'emptysecret' lacks aws_access_key_id or "
		   "aws_secret_access_key");
	assert_path(creds_path);
	assert_error_keeps_secrets();
	assert_empty(&s);
	ama_config_free(cfg);
}

Test(s3creds, keys_never_come_from_the_ama_config)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of(
		"[s3]\naws_access_key_id = AKIACFG\n"
		"aws_secret_access_key = cfgSECRET\n"
		"access-key-id = AKIACFG\nsecret-access-key = cfgSECRET\n"
		"[default]\naws_access_key_id = AKIACFG\n"
		"aws_secret_access_key = cfgSECRET\n");

	setenv("AMA_S3_AWS_ACCESS_KEY_ID", "AKIACFG", 1);
	setenv("AMA_S3_AWS_SECRET_ACCESS_KEY", "cfgSECRET", 1);
	load(&s, cfg, "staging", AMA_ESETUP);
	cr_assert_eq(strncmp(ama_error_msg(), "no S3 credentials: ", 19), 0,
		     "%s", ama_error_msg());
	assert_error_keeps_secrets();
	assert_empty(&s);
	ama_config_free(cfg);
}

/* --- region and endpoint --- */

Test(s3creds, the_region_is_the_first_one_set)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of("[s3]\nregion = cfg-1\n");

	put_credentials();
	put_aws_config();
	setenv("AMA_S3_REGION", "ama-env-1", 1);
	setenv("AWS_REGION", "aws-region-1", 1);
	setenv("AWS_DEFAULT_REGION", "aws-default-1", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "ama-env-1");
	cr_assert_str_eq(s.endpoint, "https://s3.ama-env-1.amazonaws.com");
	ama_s3_settings_release(&s);
	unsetenv("AMA_S3_REGION");
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "cfg-1");
	ama_s3_settings_release(&s);
	ama_config_free(cfg);
	cfg = config_of("[s3]\nregion =\n");
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "aws-region-1");
	ama_s3_settings_release(&s);
	/* set but empty is unset */
	setenv("AWS_REGION", "", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "aws-default-1");
	ama_s3_settings_release(&s);
	unsetenv("AWS_DEFAULT_REGION");
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "eu-west-3");
	cr_assert_str_eq(s.endpoint, "https://s3.eu-west-3.amazonaws.com");
	ama_s3_settings_release(&s);
	cr_assert_eq(unlink(".aws/config"), 0);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.region, "us-east-1");
	cr_assert_str_eq(s.endpoint, "https://s3.us-east-1.amazonaws.com");
	ama_s3_settings_release(&s);
	ama_config_free(cfg);
}

Test(s3creds, the_region_of_the_profile_that_gave_the_keys)
{
	struct ama_s3_settings s;

	put_credentials();
	put_aws_config();
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "ap-south-1");
	ama_s3_settings_release(&s);
	unsetenv("AWS_PROFILE");
	setenv("AMA_S3_STAGING_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "ap-south-1");
	ama_s3_settings_release(&s);
	/* the config file names it [profile colon]; [colon] is not it */
	setenv("AMA_S3_STAGING_PROFILE", "colon", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "us-east-1");
	ama_s3_settings_release(&s);
	unsetenv("AMA_S3_STAGING_PROFILE");
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "eu-west-3");
	ama_s3_settings_release(&s);
}

Test(s3creds, the_default_profile_may_be_written_either_way_in_the_config)
{
	struct ama_s3_settings s;

	put_credentials();
	put_file(".aws/config", "[profile default]\nregion = sa-east-1\n");
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "sa-east-1");
	ama_s3_settings_release(&s);
}

Test(s3creds, the_aws_config_file_variable_moves_the_config)
{
	struct ama_s3_settings s;

	put_credentials();
	put_aws_config();
	put_file("aws-config", "[default]\nregion = ca-central-1\n");
	setenv("AWS_CONFIG_FILE", "aws-config", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "ca-central-1");
	ama_s3_settings_release(&s);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "us-east-1");
	ama_s3_settings_release(&s);
}

Test(s3creds, a_broken_aws_config_only_loses_the_region)
{
	struct ama_s3_settings s;

	put_credentials();
	put_file(".aws/config", "[default]\nregion = eu-west-3\nbroken\n");
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.region, "us-east-1");
	cr_assert_str_eq(s.creds.key_id, "AKIADEFAULT");
	ama_s3_settings_release(&s);
}

Test(s3creds, the_endpoint_is_the_first_one_set)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of(
		"[s3]\nendpoint = http://127.0.0.1:9000\n");

	set_env_keys();
	setenv("AWS_REGION", "eu-central-1", 1);
	setenv("AMA_S3_ENDPOINT", "https://ama-env.example", 1);
	setenv("AWS_ENDPOINT_URL_S3", "https://s3-only.example", 1);
	setenv("AWS_ENDPOINT_URL", "https://all.example", 1);
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.endpoint, "https://ama-env.example");
	ama_s3_settings_release(&s);
	unsetenv("AMA_S3_ENDPOINT");
	load(&s, cfg, "staging", 0);
	cr_assert_str_eq(s.endpoint, "http://127.0.0.1:9000");
	ama_s3_settings_release(&s);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.endpoint, "https://s3-only.example");
	ama_s3_settings_release(&s);
	/* set but empty is unset */
	setenv("AWS_ENDPOINT_URL_S3", "", 1);
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.endpoint, "https://all.example");
	ama_s3_settings_release(&s);
	unsetenv("AWS_ENDPOINT_URL");
	load(&s, NULL, "staging", 0);
	cr_assert_str_eq(s.endpoint, "https://s3.eu-central-1.amazonaws.com");
	cr_assert_str_eq(s.region, "eu-central-1");
	ama_s3_settings_release(&s);
	ama_config_free(cfg);
}

Test(s3creds, trailing_slashes_leave_the_endpoint)
{
	struct ama_s3_settings s;

	set_env_keys();
	setenv("AWS_ENDPOINT_URL", "http://minio.local:9000///", 1);
	load(&s, NULL, NULL, 0);
	cr_assert_str_eq(s.endpoint, "http://minio.local:9000");
	ama_s3_settings_release(&s);
	setenv("AWS_ENDPOINT_URL", "https://gw.example/s3/", 1);
	load(&s, NULL, NULL, 0);
	cr_assert_str_eq(s.endpoint, "https://gw.example/s3");
	ama_s3_settings_release(&s);
}

Test(s3creds, an_endpoint_that_is_not_http_is_a_setup_error)
{
	static const char *const bad[] = {
		"minio:9000", "ftp://minio", "s3://bucket", "127.0.0.1:9000",
	};
	struct ama_s3_settings s;
	char want[128];
	size_t i;

	set_env_keys();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AMA_S3_ENDPOINT", bad[i], 1);
		load(&s, NULL, "staging", AMA_ESETUP);
		snprintf(want, sizeof(want), "S3 endpoint '%s' is not an "
			 "http:// or https:// URL", bad[i]);
		assert_msg(want);
		assert_error_keeps_secrets();
		assert_empty(&s);
	}
}

Test(s3creds, addressing_is_path_unless_set_to_virtual)
{
	struct ama_s3_settings s;
	struct ama_config *cfg = config_of("[s3]\naddressing = virtual\n");

	set_env_keys();
	load(&s, NULL, NULL, 0);
	cr_assert_eq(s.virtual_host, 0);
	ama_s3_settings_release(&s);
	load(&s, cfg, NULL, 0);
	cr_assert_eq(s.virtual_host, 1);
	ama_s3_settings_release(&s);
	setenv("AMA_S3_ADDRESSING", "path", 1);
	load(&s, cfg, NULL, 0);
	cr_assert_eq(s.virtual_host, 0);
	ama_s3_settings_release(&s);
	ama_config_free(cfg);
}

Test(s3creds, a_bad_addressing_is_a_setup_error_before_the_keys)
{
	struct ama_s3_settings s;

	setenv("AMA_S3_ADDRESSING", "dns", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("[s3] addressing: 'dns' is not 'path' or 'virtual'");
	assert_empty(&s);
	setenv("AMA_S3_ADDRESSING", "Virtual", 1);
	set_env_keys();
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("[s3] addressing: 'Virtual' is not 'path' or 'virtual'");
	assert_error_keeps_secrets();
	assert_empty(&s);
}

Test(s3creds, release_leaves_an_empty_struct)
{
	struct ama_s3_settings s;

	set_env_keys();
	setenv("AWS_SESSION_TOKEN", "envTOKEN", 1);
	load(&s, NULL, "staging", 0);
	ama_s3_settings_release(&s);
	assert_empty(&s);
	ama_s3_settings_release(&s);
}

Test(s3creds, secrets_never_show_in_errors_or_sources)
{
	struct ama_s3_settings s;

	put_credentials();
	setenv("AWS_SESSION_TOKEN", "envTOKEN", 1);
	/* a line holding a secret that inih cannot parse */
	put_file("syntax", "[default]\naws_secret_access_key synSECRET\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "syntax", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_msg("line 2: not valid INI");
	assert_error_keeps_secrets();
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	/* every profile that loads has a source without its secret */
	setenv("AWS_PROFILE", "p1", 1);
	load(&s, NULL, "staging", 0);
	assert_no_secret(s.creds.source);
	ama_s3_settings_release(&s);
	set_env_keys();
	load(&s, NULL, "staging", 0);
	assert_no_secret(s.creds.source);
	ama_s3_settings_release(&s);
	setenv("AMA_S3_ENDPOINT", "minio", 1);
	load(&s, NULL, "staging", AMA_ESETUP);
	assert_error_keeps_secrets();
}
