/* loglimit.c: a log that says each kind of line at most once a second, and counts the rest. */
#include "auto-config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "loglimit.h"

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;	/* nowhere to say it */
		s += w;
		n -= (size_t)w;
	}
}

/* "PREFIX: [N more times in S s: ]LINE\n" in one write. */
static void emit(struct srv_loglimit *l, const char *line, unsigned held,
		 double secs)
{
	struct ama_buf b = AMA_BUF_INIT;
	size_t n = strlen(line);

	ama_buf_addf(&b, "%s: ", l->prefix);
	if (held)
		ama_buf_addf(&b, "%u more times in %.0f s: ", held,
			     secs < 1 ? 1 : secs);
	while (n && line[n - 1] == '\n')
		n--;
	ama_buf_add(&b, line, n);
	ama_buf_addch(&b, '\n');
	write_all(l->fd, b.s, b.len);
	ama_buf_release(&b);
}

/* Say kind k's held lines; the caller holds l->mu. */
static void say_held(struct srv_loglimit *l, struct srv_log_kind *k,
		     double now)
{
	emit(l, k->text, k->held, now - k->last);
	k->held = 0;
	k->last = now;
	free(k->text);
	k->text = NULL;
}

void srv_loglimit_init(struct srv_loglimit *l, int fd, const char *prefix)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	l->fd = fd;
	l->prefix = prefix;
}

void srv_loglimit_release(struct srv_loglimit *l, double now)
{
	int i;

	for (i = 0; i < SRV_LOG_KINDS; i++) {
		if (l->kinds[i].held)
			say_held(l, &l->kinds[i], now);
		free(l->kinds[i].text);
	}
	pthread_mutex_destroy(&l->mu);
}

unsigned srv_loglimit_say(struct srv_loglimit *l, const void *key,
			  const char *line, double now)
{
	struct srv_log_kind *k = NULL, *oldest = NULL;
	unsigned held = 0;
	int i;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < SRV_LOG_KINDS && !k; i++) {
		if (l->kinds[i].key == key && l->kinds[i].last)
			k = &l->kinds[i];
		else if (!oldest || l->kinds[i].last < oldest->last)
			oldest = &l->kinds[i];
	}
	if (!k) {	/* a new kind takes the slot of the stalest */
		k = oldest;
		if (k->held)
			say_held(l, k, now);
		k->key = key;
		k->last = 0;
	}
	if (k->last && now - k->last < 1.0) {
		free(k->text);
		k->text = ama_strdup(line);
		held = ++k->held;	/* said later, counted */
	} else if (k->held) {
		free(k->text);
		k->text = ama_strdup(line);
		k->held++;
		say_held(l, k, now);
	} else {
		emit(l, line, 0, 0);
		k->last = now;
	}
	pthread_mutex_unlock(&l->mu);
	return held;
}

void srv_loglimit_tick(struct srv_loglimit *l, double now)
{
	int i;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < SRV_LOG_KINDS; i++)
		if (l->kinds[i].held && now - l->kinds[i].last >= 1.0)
			say_held(l, &l->kinds[i], now);
	pthread_mutex_unlock(&l->mu);
}
