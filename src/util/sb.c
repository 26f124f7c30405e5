/* sb.c — string buffer and allocation helpers (see sb.h). */
#include "util/sb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		abort();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *xgrow(void *p, size_t n, size_t m)
{
	if (n & (n - 1))
		return p; /* not a power of two: there is room */
	if (n > ((size_t)-1) / 2 / (m ? m : 1))
		abort();
	return xrealloc(p, (n ? 2 * n : 1) * m);
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
	sb b = SB_INIT;
	va_list ap;
	char *tmp;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	tmp = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_addn(&b, tmp, (size_t)n);
	free(tmp);
	return sb_detach(&b);
}

void sb_init(sb *b)
{
	b->buf = NULL;
	b->len = b->cap = 0;
}

void sb_release(sb *b)
{
	free(b->buf);
	sb_init(b);
}

static void grow(sb *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	b->cap = b->cap ? b->cap : 64;
	while (b->cap < need)
		b->cap *= 2;
	b->buf = xrealloc(b->buf, b->cap);
}

char *sb_detach(sb *b)
{
	char *s;
	grow(b, 0);
	b->buf[b->len] = '\0';
	s = b->buf;
	sb_init(b);
	return s;
}

const char *sb_str(const sb *b)
{
	return b->buf ? b->buf : "";
}

void sb_reset(sb *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void sb_addn(sb *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sb_add(sb *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

void sb_addf(sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void quoted(sb *b, const char *s, char q)
{
	grow(b, strlen(s) + 2);
	sb_addn(b, &q, 1);
	for (; *s; s++) {
		if (*s == q)
			sb_addn(b, &q, 1);
		sb_addn(b, s, 1);
	}
	sb_addn(b, &q, 1);
}

void sb_sql_str(sb *b, const char *s)
{
	quoted(b, s, '\'');
}

void sb_sql_ident(sb *b, const char *s)
{
	quoted(b, s, '"');
}

void sb_sql_path(sb *b, const char *path)
{
	sb lit = SB_INIT;

	for (const char *s = path; *s; s++) {
		if (*s == '*' || *s == '?' || *s == '[') {
			char cls[4] = { '[', *s, ']', '\0' };
			sb_add(&lit, cls);
		} else {
			sb_addn(&lit, s, 1);
		}
	}
	sb_sql_str(b, sb_str(&lit));
	sb_release(&lit);
}

void sb_html(sb *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			sb_add(b, "&amp;");
			break;
		case '<':
			sb_add(b, "&lt;");
			break;
		case '>':
			sb_add(b, "&gt;");
			break;
		case '"':
			sb_add(b, "&quot;");
			break;
		case '\'':
			sb_add(b, "&#39;");
			break;
		default:
			/* control characters other than tab and newline are not
			 * allowed in HTML or XML text (the SVG is XML) */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				sb_add(b, "\xef\xbf\xbd"); /* U+FFFD */
			else
				sb_addn(b, s, 1);
		}
	}
}
