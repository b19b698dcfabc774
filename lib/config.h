/* config.h: ama's INI configuration (inih), its precedence, and atomic edits. */
#ifndef AMA_CONFIG_H
#define AMA_CONFIG_H

#include <stdint.h>

/*
 * Precedence, lowest first: the user file ($AMA_CONFIG, else
 * $XDG_CONFIG_HOME/ama/config, else ~/.config/ama/config), then the asset's
 * .ama/config, then environment variables AMA_<SECTION>_<KEY> (upper case,
 * '-' as '_'), which are consulted at lookup time.
 */
struct ama_config;

/*
 * Load the user file (if it exists) and asset_file (if not NULL and it
 * exists). Returns 0, or AMA_ESETUP with the file as subject: a syntax
 * error ("line 3: not valid INI"), a line longer than inih reads ("line 3:
 * longer than 199 bytes"), or a file that exists but cannot be read.
 */
int ama_config_load(struct ama_config **out, const char *asset_file);
/* Load one file alone (a missing file gives an empty config). */
int ama_config_load_file(struct ama_config **out, const char *path);
void ama_config_free(struct ama_config *c);

/*
 * Reading an INI file with inih, for ama's own files and the aws CLI's.
 * Flags: AMA_INI_UNINDENT, an indented line is a key (as `git config -f`
 * writes them), not the continuation of a value; AMA_INI_LONG_VALUES,
 * "key = value" lines and comments of any length (session tokens run to
 * thousands of bytes; inih reads 199 a line), else a longer line is an
 * error; AMA_INI_SECRET, what was read is wiped from memory afterwards.
 * fn is called as inih calls its handler. Returns 0, AMA_ENOTFOUND (no
 * such file), io_code ("cannot read: reason"), or AMA_ESETUP ("line 3:
 * not valid INI", "line 3: longer than 199 bytes[ and not a key = value
 * line]"), with path as subject.
 */
#define AMA_INI_UNINDENT	1u
#define AMA_INI_LONG_VALUES	2u
#define AMA_INI_SECRET		4u
typedef int (*ama_ini_handler)(void *user, const char *section,
			       const char *key, const char *value);
int ama_ini_parse_file(const char *path, unsigned flags, int io_code,
		       ama_ini_handler fn, void *user);

/* The value of section.key (environment first), or NULL. */
const char *ama_config_get(const struct ama_config *c, const char *section,
			   const char *key);
/*
 * Typed lookups: *out keeps its default when the key is unset. Returns 0,
 * or AMA_ESETUP ("[s] k: 'x' is not a size") for a bad value.
 */
int ama_config_get_int(const struct ama_config *c, const char *section,
		       const char *key, long *out);
int ama_config_get_size(const struct ama_config *c, const char *section,
			const char *key, uint64_t *out);
/* Parse "64MiB", "16M", "1GiB", "4096" into bytes; -1 if bad. */
int ama_parse_size(const char *s, uint64_t *out);

/* Set (or with value NULL, remove every copy of) a key in c, in file order. */
void ama_config_put(struct ama_config *c, const char *section,
		    const char *key, const char *value);
/*
 * Write c's file keys (not the environment) to path atomically; meant for a
 * config from ama_config_load_file() (ama_config_load() merges the user's
 * keys in). Returns 0, AMA_EINVAL ("[s] k: the value cannot be written:
 * it holds a control byte") for an entry that would not read back as it is
 * (line breaks, spaces at either end, " ;", too long), or what
 * ama_write_file_atomic() returns.
 */
int ama_config_write(const struct ama_config *c, const char *path);
/*
 * Change the file at path as one step: take PATH.lock, then load the file
 * alone (a missing one is empty), let fn change it, and write it back as
 * ama_config_write() does. Nobody writes path between the read and the
 * write, so no other writer's key is lost. fn returns 0, or a negative
 * code (after setting the error) to leave the file as it was. Returns 0,
 * what fn returned, or the errors of the lock, the load and the write.
 */
int ama_config_edit(const char *path,
		    int (*fn)(struct ama_config *c, void *ctx), void *ctx);

/*
 * The user config file's path (it may not exist): $AMA_CONFIG, else
 * "config" in ama's folder of the XDG config home (lib/xdg.h); caller
 * frees. NULL when there is no home folder to look in (HOME unset and no
 * password entry): then there is no user file.
 */
char *ama_config_user_path(void);
/* The environment variable for section.key into buf (at least 128). */
void ama_config_env_name(char *buf, const char *section, const char *key);

#endif
