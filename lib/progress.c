/* progress.c: the terminal progress line shared by long-running commands. */
#include "auto-config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "progress.h"

double ama_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ama_human_bytes(char *buf, double bytes)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;

	/* move up while the printed figure would round to 1024 or more */
	while (u < 5 && bytes >= (u ? 1023.95 : 1023.5)) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%.0f B", bytes);
	else
		snprintf(buf, 16, "%.1f %s", bytes, unit[u]);
}

void ama_progress_init(struct ama_progress *p, const char *title,
		       int enabled)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->title = title;
	p->start = p->last = ama_now();
}

void ama_progress_total(struct ama_progress *p, uint64_t files,
			uint64_t bytes)
{
	p->total_files = files;
	p->total_bytes = bytes;
}

static void draw(struct ama_progress *p, double now, int final)
{
	struct ama_buf b = AMA_BUF_INIT;
	double secs = now - p->start, rate = secs > 0 ? p->bytes / secs : 0;
	char h[16], t[16], r[16];

	ama_human_bytes(h, (double)p->bytes);
	ama_human_bytes(r, rate);
	ama_buf_addf(&b, "\r%s: %llu", p->title, (unsigned long long)p->files);
	if (p->total_files)
		ama_buf_addf(&b, "/%llu", (unsigned long long)p->total_files);
	ama_buf_addf(&b, " files, %s", h);
	if (p->total_bytes) {
		ama_human_bytes(t, (double)p->total_bytes);
		ama_buf_addf(&b, "/%s", t);
	}
	ama_buf_addf(&b, ", %s/s", r);
	if (!final && p->total_bytes && rate > 0 &&
	    p->bytes <= p->total_bytes) {
		long eta = (long)((double)(p->total_bytes - p->bytes) / rate);

		ama_buf_addf(&b, ", ETA %ld:%02ld", eta / 60, eta % 60);
	} else if (final) {
		ama_buf_addf(&b, ", %.1f s", secs);
	}
	ama_buf_addstr(&b, "\033[K");
	if (final)
		ama_buf_addch(&b, '\n');
	if (write(2, b.s, b.len) < 0) {
		/* a progress line is not worth failing for */
	}
	ama_buf_release(&b);
	p->drawn = 1;
}

void ama_progress_add(struct ama_progress *p, uint64_t files,
		      uint64_t bytes)
{
	ama_progress_set(p, p->files + files, p->bytes + bytes);
}

void ama_progress_set(struct ama_progress *p, uint64_t files,
		      uint64_t bytes)
{
	double now;

	if (files > p->files)
		p->files = files;
	if (bytes > p->bytes)
		p->bytes = bytes;
	if (!p->enabled)
		return;
	now = ama_now();
	if (now - p->last < 0.1)
		return;
	p->last = now;
	draw(p, now, 0);
}

void ama_progress_done(struct ama_progress *p)
{
	if (p->enabled && p->drawn)
		draw(p, ama_now(), 1);
}
