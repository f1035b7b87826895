/* The JSON reader of json.h: recursive descent with a depth bound. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

struct cursor {
	const char *at;
	int depth;
};

static void skip_space(struct cursor *c)
{
	while (*c->at == ' ' || *c->at == '\t' || *c->at == '\r' || *c->at == '\n')
		c->at++;
}

static int parse_value(struct cursor *c, struct json *out);

static int parse_string(struct cursor *c, char **out, size_t *length)
{
	if (*c->at != '"')
		return -1;
	c->at++;
	size_t cap = 16, n = 0;
	char *s = malloc(cap);
	if (s == NULL)
		return -1;
	for (;;) {
		char ch = *c->at++;
		if (ch == '\0' || (unsigned char)ch < 0x20) {
			free(s);
			return -1;
		}
		if (ch == '"')
			break;
		if (ch == '\\') {
			char e = *c->at++;
			switch (e) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u':
				for (int i = 0; i < 4; i++)
					if (*c->at++ == '\0') {
						free(s);
						return -1;
					}
				ch = '?';
				break;
			default:
				free(s);
				return -1;
			}
		}
		if (n + 1 >= cap) {
			char *grown = realloc(s, cap *= 2);
			if (grown == NULL) {
				free(s);
				return -1;
			}
			s = grown;
		}
		s[n++] = ch;
	}
	s[n] = '\0';
	*out = s;
	*length = n;
	return 0;
}

static int parse_members(struct cursor *c, struct json *out, int object)
{
	char close = object ? '}' : ']';
	size_t cap = 0;
	c->at++;
	skip_space(c);
	if (*c->at == close) {
		c->at++;
		return 0;
	}
	for (;;) {
		if (out->length == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			struct json *items = realloc(out->items, cap * sizeof *items);
			if (items == NULL)
				return -1;
			out->items = items;
			if (object) {
				char **keys = realloc(out->keys, cap * sizeof *keys);
				if (keys == NULL)
					return -1;
				out->keys = keys;
			}
		}
		skip_space(c);
		if (object) {
			size_t ignored;
			if (parse_string(c, &out->keys[out->length], &ignored) != 0)
				return -1;
			skip_space(c);
			if (*c->at++ != ':') {
				free(out->keys[out->length]);
				return -1;
			}
		}
		if (parse_value(c, &out->items[out->length]) != 0) {
			if (object)
				free(out->keys[out->length]);
			return -1;
		}
		out->length++;
		skip_space(c);
		if (*c->at == ',') {
			c->at++;
			continue;
		}
		if (*c->at == close) {
			c->at++;
			return 0;
		}
		return -1;
	}
}

static int parse_value(struct cursor *c, struct json *out)
{
	memset(out, 0, sizeof *out);
	skip_space(c);
	if (++c->depth > 32)
		return -1;
	int status = -1;
	char ch = *c->at;
	if (ch == '{' || ch == '[') {
		out->kind = ch == '{' ? JSON_OBJECT : JSON_ARRAY;
		status = parse_members(c, out, ch == '{');
		if (status != 0)
			json_free(out);
	} else if (ch == '"') {
		out->kind = JSON_STRING;
		status = parse_string(c, &out->string, &out->length);
	} else if (strncmp(c->at, "true", 4) == 0 || strncmp(c->at, "false", 5) == 0) {
		out->kind = JSON_BOOL;
		out->number = ch == 't';
		c->at += ch == 't' ? 4 : 5;
		status = 0;
	} else if (strncmp(c->at, "null", 4) == 0) {
		out->kind = JSON_NULL;
		c->at += 4;
		status = 0;
	} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
		char *end;
		out->kind = JSON_NUMBER;
		out->number = strtoll(c->at, &end, 10);
		out->integral = *end != '.' && *end != 'e' && *end != 'E';
		while (*end == '.' || *end == 'e' || *end == 'E' || *end == '+' || *end == '-' ||
		       (*end >= '0' && *end <= '9'))
			end++;
		c->at = end;
		status = 0;
	}
	c->depth--;
	return status;
}

int json_parse(const char *text, struct json *out)
{
	struct cursor c = { text, 0 };
	if (parse_value(&c, out) != 0)
		return -1;
	skip_space(&c);
	if (*c.at != '\0') {
		json_free(out);
		return -1;
	}
	return 0;
}

void json_free(struct json *value)
{
	if (value->kind == JSON_STRING)
		free(value->string);
	if (value->kind == JSON_ARRAY || value->kind == JSON_OBJECT) {
		for (size_t i = 0; i < value->length; i++) {
			json_free(&value->items[i]);
			if (value->kind == JSON_OBJECT)
				free(value->keys[i]);
		}
		free(value->items);
		free(value->keys);
	}
	memset(value, 0, sizeof *value);
}

const struct json *json_get(const struct json *object, const char *key)
{
	if (object == NULL || object->kind != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < object->length; i++)
		if (strcmp(object->keys[i], key) == 0)
			return &object->items[i];
	return NULL;
}
