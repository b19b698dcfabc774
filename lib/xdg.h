/* xdg.h: the user's folders for configuration, data and cache, as the XDG Base Directory specification places them. */
#ifndef AMA_XDG_H
#define AMA_XDG_H

/*
 * The three base folders ama uses, and where each is:
 *
 *   AMA_XDG_CONFIG   $XDG_CONFIG_HOME, else ~/.config        (the user config)
 *   AMA_XDG_DATA     $XDG_DATA_HOME, else ~/.local/share     (the embedded
 *                                                             default store)
 *   AMA_XDG_CACHE    $XDG_CACHE_HOME, else ~/.cache          (downloads)
 *
 * A variable that is unset, empty or relative is ignored, as the
 * specification says ("If an implementation encounters a relative path in
 * any of these variables it should consider the path invalid and ignore
 * it"). The home folder (~) is $HOME when it is an absolute path, else the
 * home folder the password database gives the real user (as for a daemon
 * or a cron job started without HOME); when neither exists there is no
 * default, and the functions below fail rather than guess a folder such
 * as "/.config".
 *
 * Nothing here creates a folder or touches the disk beyond the password
 * database; the functions read the environment at each call, so a program
 * (or a test) that changes it sees the change. They are safe to call from
 * any thread as long as no thread changes the environment meanwhile.
 */
enum ama_xdg_kind {
	AMA_XDG_CONFIG,
	AMA_XDG_DATA,
	AMA_XDG_CACHE,
};

/*
 * The user's home folder into *out (the caller frees it), without a
 * trailing '/' (but "/" itself). Returns 0, or AMA_ESETUP ("no home
 * folder: HOME is not an absolute path and the user has none in the
 * password database"), *out then NULL.
 */
int ama_xdg_home(char **out);

/*
 * The base folder of kind (see above) into *out (the caller frees it).
 * Returns 0, or the AMA_ESETUP of ama_xdg_home() when the variable is not
 * usable and there is no home folder; *out is then NULL.
 */
int ama_xdg_dir(char **out, enum ama_xdg_kind kind);

/*
 * ama's own folder under the base folder of kind, or a file in it:
 * "BASE/ama" when name is NULL or "", else "BASE/ama/NAME" (name is
 * appended as it is: "remote", "config", "meta.git"). The caller frees
 * *out. Returns as ama_xdg_dir() does.
 */
int ama_xdg_path(char **out, enum ama_xdg_kind kind, const char *name);

#endif
