/* A small JSON reader for the protocol's request lines: objects, arrays, strings, integers and
 * booleans, parsed into a tree the device walks by key. Enough for one request per line; not a
 * general-purpose parser (no floating point, \u escapes kept as '?'). */
#ifndef C_DEVICE_JSON_H
#define C_DEVICE_JSON_H

#include <stddef.h>

enum json_kind { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_kind kind;
	long long number;  /* JSON_NUMBER, JSON_BOOL */
	int integral;      /* JSON_NUMBER: no fraction or exponent */
	char *string;      /* JSON_STRING (NUL-terminated) */
	size_t length;     /* JSON_STRING: bytes; JSON_ARRAY, JSON_OBJECT: members */
	char **keys;       /* JSON_OBJECT */
	struct json *items; /* JSON_ARRAY, JSON_OBJECT */
};

/* Parses one JSON text; returns 0, or -1 when it is not JSON (nothing to free then). */
int json_parse(const char *text, struct json *out);
/* Frees what json_parse allocated. */
void json_free(struct json *value);
/* The member of an object named key, or NULL. */
const struct json *json_get(const struct json *object, const char *key);

#endif
