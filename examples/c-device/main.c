/* The device-under-test protocol (virtio-xdp-offload/device/1) on standard input and output: one
 * JSON request per line in, one JSON reply per line out, for the device of device.h, with the
 * introspect extension (snapshot, usage) unless started with --wire-only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "json.h"

#define PROTOCOL "virtio-xdp-offload/device/1"
#define MAX_WRITABLE (16u << 20)

static struct device *instance;
static int introspect = 1;

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex text to bytes (malloc'd; NULL and *n unchanged when not hex). */
static uint8_t *from_hex(const struct json *v, size_t *n)
{
	if (v == NULL || v->kind != JSON_STRING || v->length % 2 != 0)
		return NULL;
	uint8_t *out = malloc(v->length / 2 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < v->length / 2; i++) {
		int hi = hex_digit(v->string[2 * i]), lo = hex_digit(v->string[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = v->length / 2;
	return out;
}

static void print_hex(const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		putchar(digits[bytes[i] >> 4]);
		putchar(digits[bytes[i] & 15]);
	}
	putchar('"');
}

static int integer(const struct json *v, long long max, long long *out)
{
	if (v == NULL || v->kind != JSON_NUMBER || !v->integral || v->number < 0 || v->number > max)
		return -1;
	*out = v->number;
	return 0;
}

/* A 128-bit feature set from hex text. */
static int features_of(const struct json *v, uint64_t f[2])
{
	if (v == NULL || v->kind != JSON_STRING || v->length == 0 || v->length > 32)
		return -1;
	f[0] = f[1] = 0;
	for (size_t i = 0; i < v->length; i++) {
		int digit = hex_digit(v->string[i]);
		if (digit < 0)
			return -1;
		f[1] = f[1] << 4 | f[0] >> 60;
		f[0] = f[0] << 4 | (uint64_t)digit;
	}
	return 0;
}

static void print_features(const uint64_t f[2])
{
	if (f[1] != 0)
		printf("\"%llx%016llx\"", (unsigned long long)f[1], (unsigned long long)f[0]);
	else
		printf("\"%llx\"", (unsigned long long)f[0]);
}

static void reply_error(const char *id, const char *code, const char *message)
{
	printf("{\"id\":%s,\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", id, code, message);
}

/* Serves a control request; 0, or -1 when it is not one the protocol defines. */
static int control(const char *id, const struct json *request)
{
	const struct json *list = json_get(request, "segments");
	if (list == NULL || list->kind != JSON_ARRAY)
		return -1;
	struct segment *segments = calloc(list->length + 1, sizeof *segments);
	if (segments == NULL)
		return -1;
	int status = 0;
	size_t writable_total = 0;
	for (size_t i = 0; i < list->length && status == 0; i++) {
		const struct json *readable = json_get(&list->items[i], "readable");
		long long size;
		if (readable != NULL) {
			segments[i].bytes = from_hex(readable, &segments[i].length);
			status = segments[i].bytes == NULL ? -1 : 0;
		} else if (integer(json_get(&list->items[i], "writable"), MAX_WRITABLE, &size) == 0 &&
			   (writable_total += (size_t)size) <= MAX_WRITABLE) {
			segments[i].writable = 1;
			segments[i].length = (size_t)size;
			segments[i].bytes = calloc(1, (size_t)size + 1);
			status = segments[i].bytes == NULL ? -1 : 0;
		} else
			status = -1;
	}
	if (status == 0) {
		size_t used = device_control(instance, segments, list->length);
		uint8_t *written = calloc(1, used + 1);
		for (size_t i = 0, at = 0; i < list->length && at < used; i++)
			if (segments[i].writable) {
				size_t k = segments[i].length < used - at ? segments[i].length : used - at;
				memcpy(written + at, segments[i].bytes, k);
				at += k;
			}
		printf("{\"id\":%s,\"used\":%zu,\"written\":", id, used);
		print_hex(written, used);
		printf(",\"needs_reset\":%s}\n", device_needs_reset(instance) ? "true" : "false");
		free(written);
	}
	for (size_t i = 0; i < list->length; i++)
		free(segments[i].bytes);
	free(segments);
	return status;
}

/* Answers one request line; returns 1 after quit. */
static int serve(const char *line)
{
	struct json request;
	int parsed = json_parse(line, &request) == 0;
	if (!parsed || request.kind != JSON_OBJECT) {
		if (parsed)
			json_free(&request);
		reply_error("null", "bad-request", "the line is not a JSON object");
		return 0;
	}
	long long id_value;
	if (integer(json_get(&request, "id"), 1LL << 53, &id_value) != 0) {
		reply_error("null", "bad-request", "id: not an integer");
		json_free(&request);
		return 0;
	}
	char id[24];
	snprintf(id, sizeof id, "%lld", id_value);
	const struct json *op_json = json_get(&request, "op");
	const char *op = op_json != NULL && op_json->kind == JSON_STRING ? op_json->string : "";
	int quit = 0, bad = 0;
	if (strcmp(op, "hello") == 0) {
		printf("{\"id\":%s,\"protocol\":\"" PROTOCOL "\",\"implementation\":\"c-device example (stub verifier)\","
		       "\"extensions\":[%s]}\n",
		       id, introspect ? "\"introspect\"" : "");
	} else if (strcmp(op, "start") == 0) {
		size_t n = 0;
		long long queues, variant;
		uint8_t *caps = from_hex(json_get(&request, "caps"), &n);
		if (caps == NULL || n != sizeof(struct virtio_net_xdp_caps) ||
		    integer(json_get(&request, "queues"), 65535, &queues) != 0 || queues < 1 ||
		    integer(json_get(&request, "host_variant"), 0xffffffffLL, &variant) != 0)
			bad = 1;
		else {
			/* host_variant changes nothing: this device holds no host identifier at all */
			device_free(instance);
			instance = device_new(caps);
			uint64_t offered[2];
			device_offered(instance, offered);
			printf("{\"id\":%s,\"features\":", id);
			print_features(offered);
			printf("}\n");
		}
		free(caps);
	} else if (strcmp(op, "quit") == 0) {
		printf("{\"id\":%s}\n", id);
		quit = 1;
	} else if (strcmp(op, "negotiate") != 0 && strcmp(op, "control") != 0 && strcmp(op, "frame") != 0 &&
		   strcmp(op, "reset") != 0 && strcmp(op, "migrate") != 0 &&
		   !(introspect && (strcmp(op, "snapshot") == 0 || strcmp(op, "usage") == 0))) {
		reply_error(id, "unknown-op", "an operation this device does not know");
	} else if (instance == NULL) {
		reply_error(id, "not-started", "no instance: send start first");
	} else if (strcmp(op, "negotiate") == 0) {
		uint64_t features[2];
		if (features_of(json_get(&request, "features"), features) != 0)
			bad = 1;
		else
			printf("{\"id\":%s,\"accepted\":%s}\n", id, device_negotiate(instance, features) ? "true" : "false");
	} else if (strcmp(op, "control") == 0) {
		bad = control(id, &request) != 0;
	} else if (strcmp(op, "frame") == 0) {
		/* No program ever runs here: every frame goes to the guest unchanged. */
		size_t n = 0;
		long long queue;
		uint8_t *frame = from_hex(json_get(&request, "frame"), &n);
		if (frame == NULL || integer(json_get(&request, "queue"), 65535, &queue) != 0)
			bad = 1;
		else {
			printf("{\"id\":%s,\"offload\":\"bypass\",\"guest\":[", id);
			print_hex(frame, n);
			printf("],\"host\":[]}\n");
		}
		free(frame);
	} else if (strcmp(op, "reset") == 0) {
		device_reset(instance);
		printf("{\"id\":%s}\n", id);
	} else if (strcmp(op, "snapshot") == 0) {
		char *state = device_snapshot(instance);
		if (state == NULL)
			reply_error(id, "unsupported", "out of memory");
		else {
			/* only digits, letters, spaces and newlines: a newline is the one character to escape */
			printf("{\"id\":%s,\"state\":\"", id);
			for (const char *c = state; *c != '\0'; c++)
				if (*c == '\n')
					fputs("\\n", stdout);
				else
					putchar(*c);
			printf("\"}\n");
			free(state);
		}
	} else if (strcmp(op, "usage") == 0) {
		uint32_t maps;
		uint64_t memory;
		device_usage(instance, &maps, &memory);
		/* no program ever attaches here, so insn_cnt is 0 */
		printf("{\"id\":%s,\"maps\":%u,\"map_memory\":\"%llu\",\"insn_cnt\":0}\n", id, maps,
		       (unsigned long long)memory);
	} else { /* migrate */
		const struct json *phase = json_get(&request, "phase");
		const char *p = phase != NULL && phase->kind == JSON_STRING ? phase->string : "";
		int which = strcmp(p, "start") == 0 ? 0 : strcmp(p, "end") == 0 ? 1 : strcmp(p, "both") == 0 ? 2 : -1;
		if (which < 0)
			bad = 1;
		else
			printf("{\"id\":%s,\"blocked\":%s}\n", id, device_migrate(instance, which) ? "true" : "false");
	}
	if (bad)
		reply_error(id, "bad-request", "a field is missing or out of range");
	json_free(&request);
	fflush(stdout);
	return quit;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--wire-only") == 0)
			introspect = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		if (serve(line))
			break;
	}
	free(line);
	device_free(instance);
	return 0;
}
