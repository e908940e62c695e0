/* SPDX-License-Identifier: MIT */
/* httpd's request heads (RFC 9112): where one ends, its request line, its headers; pure. */
#ifndef HTTPD_HTTP_PARSE_H
#define HTTPD_HTTP_PARSE_H

#include <stddef.h>

#define HTTP_REQUEST_LINE_MAX (8 * 1024) /* bytes before the request line's LF; longer: 414 */
#define HTTP_HEADERS_MAX (16 * 1024)     /* bytes of a whole head; longer: 431 */

/* A request head, as http_parse_head() leaves it. */
struct http_request {
	char method[16];
	char path[HTTP_REQUEST_LINE_MAX]; /* %-decoded, query dropped, NUL-terminated */
	int minor;                        /* HTTP/1.minor */
	int keep_alive;
	int has_host;
	int has_body; /* a Content-Length other than "0", or a Transfer-Encoding */
};

/*
 * Look at the bytes of a connection so far, req[0, have), which start with
 * a request. Returns the length of its head (up to and with the empty line
 * that ends it); 0 when more bytes are needed, which happens only while
 * have < HTTP_HEADERS_MAX; -414 when the request line is longer than
 * HTTP_REQUEST_LINE_MAX, -431 when HTTP_HEADERS_MAX bytes hold no whole head.
 */
long http_head_scan(const char *req, size_t have);

/*
 * Parse the head req[0, end) that http_head_scan() measured, in place: the
 * ends of its lines become NULs. Returns 0 with r filled, or the status to
 * answer with: 400 for a malformed head, an HTTP/1.1 one without Host, or
 * a path that is not absolute, holds %00 or a ".." segment; 505 for
 * HTTP/2 and up. The method is not checked here.
 */
int http_parse_head(char *req, size_t end, struct http_request *r);

/* The Content-Type of a file, by the extension of its name (the part after the last '/'). */
const char *http_content_type(const char *path);

#endif /* HTTPD_HTTP_PARSE_H */
