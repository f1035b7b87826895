/* The device of device.h. Every layout comes from the generated header (offsetof and sizeof of its
 * structures), every rule from the spec's requirements, whose identifiers the comments cite. */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- little-endian fields ---- */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

#define CAPS_FIELD(f) offsetof(struct virtio_net_xdp_caps, f)
#define STATUS_SIZE sizeof(struct virtio_net_xdp_status)
#define HEADER_SIZE (1 + STATUS_SIZE) /* ack, then the status header */
#define BPF_LD_IMM64_CODE (BPF_LD | BPF_IMM | BPF_DW)
#define BPF_CALL_CODE (BPF_JMP | BPF_CALL)
#define BPF_CALLX_CODE (BPF_JMP | BPF_CALL | BPF_X)

/* The stub verifier's whole log. */
static const char STUB_LOG[] = "stub verifier: this device refuses every program\n";

/* ---- maps ---- */

struct map {
	uint32_t handle, type, key_size, value_size, max_entries;
	uint64_t memory;
	/* array: max_entries values; hash: count keys and values, in insertion order */
	uint8_t *keys, *values;
	uint32_t count, capacity;
	struct map *next;
};

struct device {
	uint8_t caps[sizeof(struct virtio_net_xdp_caps)];
	uint32_t max_maps, max_entries, max_key_size, max_value_size, max_insns, max_log_size, max_batch;
	uint32_t prog_features, isa_groups;
	uint64_t max_map_memory, map_types;
	uint16_t verify_mode;
	uint64_t negotiated[2];
	int broken, migrating;
	uint32_t next_handle, map_count;
	uint64_t memory;
	struct map *maps;
};

static uint64_t up8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* The accounted memory of section X.6. */
static uint64_t accounted(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	if (type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY)
		return (uint64_t)max_entries * up8(value_size);
	return (uint64_t)max_entries * (up8(key_size) + up8(value_size) + 16);
}

static struct map *find_map(struct device *d, uint32_t handle)
{
	for (struct map *m = d->maps; m != NULL; m = m->next)
		if (m->handle == handle)
			return m;
	return NULL;
}

static void free_map(struct map *m)
{
	free(m->keys);
	free(m->values);
	free(m);
}

/* A hash's position of key, or -1. Linear: a small example, not a fast one. */
static long hash_find(const struct map *m, const uint8_t *key)
{
	for (uint32_t i = 0; i < m->count; i++)
		if (memcmp(m->keys + (size_t)i * m->key_size, key, m->key_size) == 0)
			return (long)i;
	return -1;
}

static int hash_append(struct map *m, const uint8_t *key, const uint8_t *value)
{
	if (m->count == m->capacity) {
		uint32_t cap = m->capacity == 0 ? 4 : m->capacity * 2;
		if (cap > m->max_entries)
			cap = m->max_entries;
		uint8_t *keys = realloc(m->keys, (size_t)cap * m->key_size);
		if (keys == NULL)
			return -1;
		m->keys = keys;
		uint8_t *values = realloc(m->values, (size_t)cap * m->value_size);
		if (values == NULL)
			return -1;
		m->values = values;
		m->capacity = cap;
	}
	memcpy(m->keys + (size_t)m->count * m->key_size, key, m->key_size);
	memcpy(m->values + (size_t)m->count * m->value_size, value, m->value_size);
	m->count++;
	return 0;
}

/* ---- the instance ---- */

struct device *device_new(const uint8_t caps[sizeof(struct virtio_net_xdp_caps)])
{
	struct device *d = calloc(1, sizeof *d);
	if (d == NULL)
		return NULL;
	memcpy(d->caps, caps, sizeof d->caps);
	d->max_maps = rd32(caps + CAPS_FIELD(max_maps));
	d->max_entries = rd32(caps + CAPS_FIELD(max_entries));
	d->max_map_memory = rd64(caps + CAPS_FIELD(max_map_memory));
	d->max_key_size = rd32(caps + CAPS_FIELD(max_key_size));
	d->max_value_size = rd32(caps + CAPS_FIELD(max_value_size));
	d->max_insns = rd32(caps + CAPS_FIELD(max_insns));
	d->max_log_size = rd32(caps + CAPS_FIELD(max_log_size));
	d->map_types = rd64(caps + CAPS_FIELD(map_types));
	d->prog_features = rd32(caps + CAPS_FIELD(prog_features));
	d->isa_groups = rd32(caps + CAPS_FIELD(isa_groups));
	d->max_batch = rd32(caps + CAPS_FIELD(max_batch));
	d->verify_mode = rd16(caps + CAPS_FIELD(verify_mode));
	d->next_handle = 1;
	return d;
}

void device_reset(struct device *d)
{
	while (d->maps != NULL) {
		struct map *next = d->maps->next;
		free_map(d->maps);
		d->maps = next;
	}
	d->map_count = 0;
	d->memory = 0;
	d->next_handle = 1; /* [dev-map-handle]: unique since the last reset */
	d->negotiated[0] = d->negotiated[1] = 0;
	d->broken = 0;
}

void device_free(struct device *d)
{
	if (d == NULL)
		return;
	device_reset(d);
	free(d);
}

void device_offered(const struct device *d, uint64_t features[2])
{
	(void)d;
	/* CTRL_VQ and XDP_OFFLOAD: no receive filter class here, so no CTRL_RX. */
	features[0] = (uint64_t)1 << VIRTIO_NET_F_CTRL_VQ;
	features[1] = (uint64_t)1 << (VIRTIO_NET_F_XDP_OFFLOAD - 64);
}

int device_negotiate(struct device *d, const uint64_t features[2])
{
	uint64_t offered[2];
	device_offered(d, offered);
	device_reset(d);
	int offload = (features[1] >> (VIRTIO_NET_F_XDP_OFFLOAD - 64)) & 1;
	int ctrl_vq = (features[0] >> VIRTIO_NET_F_CTRL_VQ) & 1;
	/* [dev-feature-requires-ctrl-vq] */
	int valid = (features[0] & ~offered[0]) == 0 && (features[1] & ~offered[1]) == 0 && (!offload || ctrl_vq);
	if (valid) {
		d->negotiated[0] = features[0];
		d->negotiated[1] = features[1];
	}
	return valid;
}

int device_needs_reset(const struct device *d) { return d->broken; }

int device_migrate(struct device *d, int phase)
{
	if (phase == 1) {
		d->migrating = 0;
		return 0;
	}
	if (d->map_count > 0) /* [dev-migration]: offloaded state blocks it */
		return 1;
	d->migrating = phase == 0;
	return 0;
}

/* ---- introspection ---- */

/* A growing text buffer; on allocation failure it stays NULL and every append is dropped. */
struct text {
	char *s;
	size_t n, cap;
};

static void append(struct text *t, const char *piece, size_t k)
{
	if (t->s == NULL)
		return;
	if (t->n + k + 1 > t->cap) {
		size_t cap = t->cap * 2 > t->n + k + 1 ? t->cap * 2 : t->n + k + 1;
		char *grown = realloc(t->s, cap);
		if (grown == NULL) {
			free(t->s);
			t->s = NULL;
			return;
		}
		t->s = grown;
		t->cap = cap;
	}
	memcpy(t->s + t->n, piece, k);
	t->n += k;
	t->s[t->n] = '\0';
}

static void append_hex(struct text *t, const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char pair[2] = { digits[bytes[i] >> 4], digits[bytes[i] & 15] };
		append(t, pair, 2);
	}
}

char *device_snapshot(const struct device *d)
{
	struct text t = { malloc(256), 0, 256 };
	if (t.s == NULL)
		return NULL;
	t.s[0] = '\0';
	char line[160];
	int k = snprintf(line, sizeof line, "next %u migrating %d\n", d->next_handle, d->migrating);
	append(&t, line, (size_t)k);
	/* every map in handle order (the list is newest first, handles ascending with age) */
	uint32_t last = 0;
	for (;;) {
		const struct map *m = NULL;
		for (const struct map *c = d->maps; c != NULL; c = c->next)
			if (c->handle > last && (m == NULL || c->handle < m->handle))
				m = c;
		if (m == NULL)
			break;
		last = m->handle;
		k = snprintf(line, sizeof line, "map %u type %u key %u value %u entries %u\n", m->handle, m->type,
			     m->key_size, m->value_size, m->max_entries);
		append(&t, line, (size_t)k);
		uint32_t count = m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY ? m->max_entries : m->count;
		for (uint32_t i = 0; i < count; i++) {
			if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
				uint8_t index[4];
				wr32(index, i);
				append_hex(&t, index, 4);
			} else
				append_hex(&t, m->keys + (size_t)i * m->key_size, m->key_size);
			append(&t, " ", 1);
			append_hex(&t, m->values + (size_t)i * m->value_size, m->value_size);
			append(&t, "\n", 1);
		}
	}
	return t.s;
}

void device_usage(const struct device *d, uint32_t *maps, uint64_t *memory)
{
	*maps = d->map_count;
	*memory = d->memory;
}

/* ---- decoding: the first malformed field in byte order ([dev-wire-malformed]) ---- */

struct reader {
	const uint8_t *p;
	size_t n, at;
	int status; /* 0, or the status of the first malformed field */
};

static void malformed(struct reader *r, int status)
{
	if (r->status == 0)
		r->status = status;
}

/* The next le32 at its offset in the data; 0 after a fault. */
static uint32_t field32(struct reader *r)
{
	if (r->status != 0)
		return 0;
	if (r->n - r->at < 4) {
		malformed(r, VIRTIO_NET_XDP_S_EINVAL); /* truncated */
		return 0;
	}
	uint32_t v = rd32(r->p + r->at);
	r->at += 4;
	return v;
}

static uint32_t at_least_one(struct reader *r)
{
	uint32_t v = field32(r);
	if (r->status == 0 && v == 0)
		malformed(r, VIRTIO_NET_XDP_S_EINVAL);
	return v;
}

static void zero32(struct reader *r)
{
	if (field32(r) != 0)
		malformed(r, VIRTIO_NET_XDP_S_EINVAL); /* reserved or undefined flags */
}

static const uint8_t *bytes_of(struct reader *r, uint64_t length)
{
	if (r->status != 0)
		return NULL;
	if (r->n - r->at < length) {
		malformed(r, VIRTIO_NET_XDP_S_EINVAL);
		return NULL;
	}
	const uint8_t *p = r->p + r->at;
	r->at += (size_t)length;
	return p;
}

static void end_of(struct reader *r)
{
	if (r->status == 0 && r->at != r->n)
		malformed(r, VIRTIO_NET_XDP_S_EINVAL); /* trailing */
}

/* A decoded request: the fields any command uses. */
struct request {
	uint8_t cmd;
	uint32_t map_type, key_size, value_size, max_entries;
	uint32_t handle, flags, count, index;
	uint32_t insn_cnt, log_size, log_level;
	const uint8_t *key, *value, *elements, *insns;
};

static int known_map_type(uint32_t t)
{
	return t == VIRTIO_NET_XDP_MAP_TYPE_HASH || t == VIRTIO_NET_XDP_MAP_TYPE_ARRAY ||
	       t == VIRTIO_NET_XDP_MAP_TYPE_PROG_ARRAY || t == VIRTIO_NET_XDP_MAP_TYPE_PERCPU_HASH ||
	       t == VIRTIO_NET_XDP_MAP_TYPE_PERCPU_ARRAY || t == VIRTIO_NET_XDP_MAP_TYPE_LRU_HASH ||
	       t == VIRTIO_NET_XDP_MAP_TYPE_LPM_TRIE;
}

/* PROG_LOAD's fields, also PROG_ARRAY_LOAD's after the slot. */
static void program_fields(struct reader *r, struct request *q)
{
	q->insn_cnt = at_least_one(r);
	q->log_size = field32(r);
	q->log_level = field32(r);
	if (r->status == 0 && q->log_level > VIRTIO_NET_XDP_LOG_VERBOSE)
		malformed(r, VIRTIO_NET_XDP_S_EINVAL);
	uint32_t prog_flags = field32(r);
	if (r->status == 0 && (prog_flags & ~(uint32_t)VIRTIO_NET_XDP_PROG_LOAD_F_GPL_COMPATIBLE))
		malformed(r, VIRTIO_NET_XDP_S_EINVAL);
	q->insns = bytes_of(r, (uint64_t)q->insn_cnt * sizeof(struct virtio_net_xdp_insn));
	if (r->status != 0)
		return;
	/* a log size exactly when a log is asked for */
	if ((q->log_level == VIRTIO_NET_XDP_LOG_NONE) != (q->log_size == 0))
		malformed(r, VIRTIO_NET_XDP_S_EINVAL);
	/* [dev-prog-wire]: an ld_imm64's second slot carries only the upper immediate */
	for (uint32_t i = 0; i < q->insn_cnt && r->status == 0; i++) {
		const uint8_t *insn = q->insns + (size_t)i * sizeof(struct virtio_net_xdp_insn);
		if (insn[offsetof(struct virtio_net_xdp_insn, code)] != BPF_LD_IMM64_CODE)
			continue;
		const uint8_t *second = insn + sizeof(struct virtio_net_xdp_insn);
		if (i + 1 >= q->insn_cnt || second[offsetof(struct virtio_net_xdp_insn, code)] != 0 ||
		    second[offsetof(struct virtio_net_xdp_insn, dst_src_reg)] != 0 ||
		    rd16(second + offsetof(struct virtio_net_xdp_insn, off)) != 0)
			malformed(r, VIRTIO_NET_XDP_S_EINVAL);
		i++;
	}
}

/* Decodes the device-readable part (header included): 0, or the malformed status. */
static int decode(const uint8_t *part, size_t n, struct request *q)
{
	struct reader r = { part, n, 2, 0 };
	memset(q, 0, sizeof *q);
	q->cmd = part[1];
	switch (q->cmd) {
	case VIRTIO_NET_CTRL_XDP_CAPS_GET:
	case VIRTIO_NET_CTRL_XDP_PROG_UNLOAD:
	case VIRTIO_NET_CTRL_XDP_QUERY:
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_CREATE:
		q->map_type = field32(&r);
		if (r.status == 0 && !known_map_type(q->map_type))
			malformed(&r, VIRTIO_NET_XDP_S_EOPNOTSUPP); /* an undefined map type */
		q->key_size = at_least_one(&r);
		q->value_size = at_least_one(&r);
		q->max_entries = at_least_one(&r);
		zero32(&r); /* map_flags: none defined */
		zero32(&r); /* reserved */
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_FREE:
		q->handle = at_least_one(&r);
		zero32(&r);
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_UPDATE:
	case VIRTIO_NET_CTRL_XDP_MAP_UPDATE_BATCH:
		q->handle = at_least_one(&r);
		q->key_size = at_least_one(&r);
		q->value_size = at_least_one(&r);
		q->flags = field32(&r);
		if (r.status == 0 && q->flags > BPF_EXIST)
			malformed(&r, VIRTIO_NET_XDP_S_EINVAL);
		if (q->cmd == VIRTIO_NET_CTRL_XDP_MAP_UPDATE) {
			q->key = bytes_of(&r, q->key_size);
			q->value = bytes_of(&r, q->value_size);
		} else {
			q->count = at_least_one(&r);
			zero32(&r);
			q->elements = bytes_of(&r, (uint64_t)q->count * ((uint64_t)q->key_size + q->value_size));
		}
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_LOOKUP:
		q->handle = at_least_one(&r);
		q->key_size = at_least_one(&r);
		q->value_size = at_least_one(&r);
		zero32(&r);
		q->key = bytes_of(&r, q->key_size);
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_DELETE:
		q->handle = at_least_one(&r);
		q->key_size = at_least_one(&r);
		q->key = bytes_of(&r, q->key_size);
		break;
	case VIRTIO_NET_CTRL_XDP_MAP_GET_NEXT_KEY:
	case VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH:
		q->handle = at_least_one(&r);
		q->key_size = at_least_one(&r);
		if (q->cmd == VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH)
			q->value_size = at_least_one(&r);
		q->flags = field32(&r);
		if (r.status == 0 && (q->flags & ~(uint32_t)VIRTIO_NET_XDP_NEXT_KEY_F_FIRST))
			malformed(&r, VIRTIO_NET_XDP_S_EINVAL);
		if (q->cmd == VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH)
			q->count = at_least_one(&r); /* max_count */
		zero32(&r);
		q->key = bytes_of(&r, q->flags & VIRTIO_NET_XDP_NEXT_KEY_F_FIRST ? 0 : q->key_size);
		break;
	case VIRTIO_NET_CTRL_XDP_PROG_LOAD:
		program_fields(&r, q);
		break;
	case VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD:
		q->handle = field32(&r);
		q->index = field32(&r);
		program_fields(&r, q);
		break;
	default:
		return VIRTIO_NET_XDP_S_EOPNOTSUPP; /* an undefined command */
	}
	end_of(&r);
	return r.status;
}

/* The writable room a command's answer needs (ack, status header, its largest result). */
static uint64_t room_for(const struct request *q)
{
	switch (q->cmd) {
	case VIRTIO_NET_CTRL_XDP_CAPS_GET: return HEADER_SIZE + sizeof(struct virtio_net_xdp_caps);
	case VIRTIO_NET_CTRL_XDP_MAP_CREATE: return HEADER_SIZE + sizeof(struct virtio_net_xdp_map_handle);
	case VIRTIO_NET_CTRL_XDP_MAP_LOOKUP: return HEADER_SIZE + (uint64_t)q->value_size;
	case VIRTIO_NET_CTRL_XDP_MAP_GET_NEXT_KEY: return HEADER_SIZE + (uint64_t)q->key_size;
	case VIRTIO_NET_CTRL_XDP_PROG_LOAD:
	case VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD:
		return HEADER_SIZE + sizeof(struct virtio_net_xdp_prog_load_result) + (uint64_t)q->log_size;
	case VIRTIO_NET_CTRL_XDP_QUERY: return HEADER_SIZE + sizeof(struct virtio_net_xdp_query);
	case VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH:
		return HEADER_SIZE + sizeof(struct virtio_net_xdp_map_batch) +
		       (uint64_t)q->count * ((uint64_t)q->key_size + q->value_size);
	default: return HEADER_SIZE;
	}
}

/* ---- commands ---- */

/* What a command answers: a status and its result bytes. */
struct answer {
	int status;
	uint8_t *result;
	size_t result_len;
};

static int fail(struct answer *a, int status)
{
	a->status = status;
	return status;
}

static uint8_t *result_room(struct answer *a, size_t n)
{
	a->result = calloc(1, n == 0 ? 1 : n);
	a->result_len = a->result == NULL ? 0 : n;
	return a->result;
}

/* [dev-map-handle-scope], [dev-map-elem-sizes]: the map an element command names. */
static struct map *sized(struct device *d, const struct request *q, int with_value, struct answer *a)
{
	struct map *m = find_map(d, q->handle);
	if (m == NULL) {
		fail(a, VIRTIO_NET_XDP_S_EBADF);
		return NULL;
	}
	if (q->key_size != m->key_size || (with_value && q->value_size != m->value_size)) {
		fail(a, VIRTIO_NET_XDP_S_EINVAL);
		return NULL;
	}
	return m;
}

static void map_create(struct device *d, const struct request *q, struct answer *a)
{
	/* [dev-map-create-type]; the offered types this example has no code for are refused alike */
	if (q->map_type >= 64 || !((d->map_types >> q->map_type) & 1) ||
	    (q->map_type != VIRTIO_NET_XDP_MAP_TYPE_HASH && q->map_type != VIRTIO_NET_XDP_MAP_TYPE_ARRAY)) {
		fail(a, VIRTIO_NET_XDP_S_EOPNOTSUPP);
		return;
	}
	if (q->map_type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY && q->key_size != 4) {
		fail(a, VIRTIO_NET_XDP_S_EINVAL); /* [dev-map-create-array-key] */
		return;
	}
	if (q->key_size > d->max_key_size || q->value_size > d->max_value_size || q->max_entries > d->max_entries) {
		fail(a, VIRTIO_NET_XDP_S_E2BIG); /* [dev-map-create-limit] */
		return;
	}
	if (d->map_count >= d->max_maps) {
		fail(a, VIRTIO_NET_XDP_S_ENOSPC); /* [dev-map-create-count] */
		return;
	}
	uint64_t memory = accounted(q->map_type, q->key_size, q->value_size, q->max_entries);
	if (d->memory + memory > d->max_map_memory || d->next_handle == 0) {
		fail(a, VIRTIO_NET_XDP_S_ENOMEM); /* [dev-map-create-memory] */
		return;
	}
	struct map *m = calloc(1, sizeof *m);
	if (m == NULL) {
		fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		return;
	}
	*m = (struct map){ .type = q->map_type, .key_size = q->key_size, .value_size = q->value_size,
			   .max_entries = q->max_entries, .memory = memory };
	if (q->map_type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
		/* [dev-map-initial]: all zero */
		m->values = calloc(q->max_entries, q->value_size);
		if (m->values == NULL) {
			free(m);
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
			return;
		}
	}
	uint8_t *out = result_room(a, sizeof(struct virtio_net_xdp_map_handle));
	if (out == NULL) {
		free_map(m);
		fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		return;
	}
	m->handle = d->next_handle++;
	m->next = d->maps;
	d->maps = m;
	d->map_count++;
	d->memory += memory;
	wr32(out + offsetof(struct virtio_net_xdp_map_handle, map_handle), m->handle);
}

static void map_free(struct device *d, const struct request *q, struct answer *a)
{
	for (struct map **at = &d->maps; *at != NULL; at = &(*at)->next) {
		if ((*at)->handle != q->handle)
			continue;
		struct map *m = *at;
		*at = m->next;
		d->map_count--;
		d->memory -= m->memory;
		free_map(m);
		return; /* no program ever references a map here, so never EBUSY */
	}
	fail(a, VIRTIO_NET_XDP_S_EBADF);
}

/* Why an update of one element would fail: 0, or the status ([dev-map-update-flags],
 * [dev-map-update-space]). pending_new keys not yet in a hash count as present. */
static int update_refusal(const struct map *m, const uint8_t *key, uint32_t flags, int exists_pending, uint32_t pending_new)
{
	if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
		if (rd32(key) >= m->max_entries)
			return VIRTIO_NET_XDP_S_E2BIG;
		return flags == BPF_NOEXIST ? VIRTIO_NET_XDP_S_EEXIST : 0;
	}
	int exists = exists_pending || hash_find(m, key) >= 0;
	if (exists)
		return flags == BPF_NOEXIST ? VIRTIO_NET_XDP_S_EEXIST : 0;
	if (flags == BPF_EXIST)
		return VIRTIO_NET_XDP_S_ENOENT;
	return m->count + pending_new >= m->max_entries ? VIRTIO_NET_XDP_S_E2BIG : 0;
}

static int apply_update(struct map *m, const uint8_t *key, const uint8_t *value)
{
	if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
		memcpy(m->values + (size_t)rd32(key) * m->value_size, value, m->value_size);
		return 0;
	}
	long at = hash_find(m, key);
	if (at >= 0) {
		memcpy(m->values + (size_t)at * m->value_size, value, m->value_size);
		return 0;
	}
	return hash_append(m, key, value);
}

/* The position after key (or from the first when key is NULL): index or hash position; -1 at the end. */
static long next_of(const struct map *m, const uint8_t *key)
{
	if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
		uint64_t i = key == NULL ? m->max_entries : rd32(key);
		uint64_t next = i >= m->max_entries ? 0 : i + 1;
		return next >= m->max_entries ? -1 : (long)next;
	}
	if (m->count == 0)
		return -1;
	long at = key == NULL ? -1 : hash_find(m, key); /* a key not in the map restarts */
	return (uint32_t)(at + 1) >= m->count ? -1 : at + 1;
}

static void key_at(const struct map *m, long at, uint8_t *out)
{
	if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY)
		wr32(out, (uint32_t)at);
	else
		memcpy(out, m->keys + (size_t)at * m->key_size, m->key_size);
}

static const uint8_t *value_at(const struct map *m, long at)
{
	return m->values + (size_t)at * m->value_size;
}

static void element_command(struct device *d, const struct request *q, struct answer *a)
{
	int batch = q->cmd == VIRTIO_NET_CTRL_XDP_MAP_UPDATE_BATCH || q->cmd == VIRTIO_NET_CTRL_XDP_MAP_LOOKUP_BATCH;
	if (batch && d->max_batch == 0) {
		fail(a, VIRTIO_NET_XDP_S_EOPNOTSUPP); /* [dev-map-batch-update] */
		return;
	}
	int with_value = q->cmd != VIRTIO_NET_CTRL_XDP_MAP_DELETE && q->cmd != VIRTIO_NET_CTRL_XDP_MAP_GET_NEXT_KEY;
	struct map *m = sized(d, q, with_value, a);
	if (m == NULL)
		return;
	if (batch && q->count > d->max_batch) {
		fail(a, VIRTIO_NET_XDP_S_E2BIG);
		return;
	}
	switch (q->cmd) {
	case VIRTIO_NET_CTRL_XDP_MAP_UPDATE: {
		int refused = update_refusal(m, q->key, q->flags, 0, 0);
		if (refused != 0 || apply_update(m, q->key, q->value) != 0)
			fail(a, refused != 0 ? refused : VIRTIO_NET_XDP_S_ENOMEM);
		return;
	}
	case VIRTIO_NET_CTRL_XDP_MAP_UPDATE_BATCH: {
		/* [dev-map-batch-update]: each element checked against the map as the earlier ones leave it */
		size_t stride = (size_t)q->key_size + q->value_size;
		uint32_t pending_new = 0;
		for (uint32_t i = 0; i < q->count; i++) {
			const uint8_t *key = q->elements + i * stride;
			int earlier = 0;
			for (uint32_t j = 0; j < i && !earlier; j++)
				earlier = memcmp(q->elements + j * stride, key, q->key_size) == 0;
			int refused = update_refusal(m, key, q->flags, earlier, pending_new);
			if (refused != 0) {
				fail(a, refused);
				return;
			}
			if (m->type != VIRTIO_NET_XDP_MAP_TYPE_ARRAY && !earlier && hash_find(m, key) < 0)
				pending_new++;
		}
		if (m->type == VIRTIO_NET_XDP_MAP_TYPE_HASH && m->capacity < m->count + pending_new) {
			/* make the room first, so that applying cannot fail halfway */
			uint32_t want = m->count + pending_new;
			uint8_t *keys = realloc(m->keys, (size_t)want * m->key_size);
			if (keys != NULL)
				m->keys = keys;
			uint8_t *values = keys == NULL ? NULL : realloc(m->values, (size_t)want * m->value_size);
			if (values == NULL) {
				fail(a, VIRTIO_NET_XDP_S_ENOMEM);
				return;
			}
			m->values = values;
			m->capacity = want;
		}
		for (uint32_t i = 0; i < q->count; i++)
			apply_update(m, q->elements + i * stride, q->elements + i * stride + q->key_size);
		return;
	}
	case VIRTIO_NET_CTRL_XDP_MAP_LOOKUP: {
		long at = m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY ? (rd32(q->key) < m->max_entries ? (long)rd32(q->key) : -1)
								 : hash_find(m, q->key);
		if (at < 0) {
			fail(a, VIRTIO_NET_XDP_S_ENOENT); /* [dev-map-lookup-missing] */
			return;
		}
		uint8_t *out = result_room(a, m->value_size);
		if (out == NULL)
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		else
			memcpy(out, value_at(m, at), m->value_size);
		return;
	}
	case VIRTIO_NET_CTRL_XDP_MAP_DELETE: {
		if (m->type == VIRTIO_NET_XDP_MAP_TYPE_ARRAY) {
			fail(a, VIRTIO_NET_XDP_S_EINVAL); /* [dev-map-delete] */
			return;
		}
		long at = hash_find(m, q->key);
		if (at < 0) {
			fail(a, VIRTIO_NET_XDP_S_ENOENT);
			return;
		}
		size_t after = m->count - (size_t)at - 1;
		memmove(m->keys + (size_t)at * m->key_size, m->keys + ((size_t)at + 1) * m->key_size, after * m->key_size);
		memmove(m->values + (size_t)at * m->value_size, m->values + ((size_t)at + 1) * m->value_size,
			after * m->value_size);
		m->count--;
		return;
	}
	case VIRTIO_NET_CTRL_XDP_MAP_GET_NEXT_KEY: {
		long next = next_of(m, q->flags & VIRTIO_NET_XDP_NEXT_KEY_F_FIRST ? NULL : q->key);
		if (next < 0) {
			fail(a, VIRTIO_NET_XDP_S_ENOENT); /* [dev-map-next-key] */
			return;
		}
		uint8_t *out = result_room(a, m->key_size);
		if (out == NULL)
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		else
			key_at(m, next, out);
		return;
	}
	default: { /* MAP_LOOKUP_BATCH, [dev-map-batch-lookup] */
		size_t stride = (size_t)m->key_size + m->value_size;
		size_t head = sizeof(struct virtio_net_xdp_map_batch);
		uint8_t *out = result_room(a, head + (size_t)q->count * stride);
		if (out == NULL) {
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
			return;
		}
		uint32_t n = 0;
		const uint8_t *after = q->flags & VIRTIO_NET_XDP_NEXT_KEY_F_FIRST ? NULL : q->key;
		for (long at = next_of(m, after); at >= 0 && n < q->count; n++) {
			uint8_t *element = out + head + n * stride;
			key_at(m, at, element);
			memcpy(element + m->key_size, value_at(m, at), m->value_size);
			at = next_of(m, element);
		}
		if (n == 0) {
			free(a->result);
			a->result = NULL;
			a->result_len = 0;
			fail(a, VIRTIO_NET_XDP_S_ENOENT);
			return;
		}
		wr32(out + offsetof(struct virtio_net_xdp_map_batch, count), n);
		a->result_len = head + n * stride;
		return;
	}
	}
}

/* PROG_LOAD and PROG_ARRAY_LOAD up to the verifier, then the stub that refuses every program. */
static void program_load(struct device *d, const struct request *q, struct answer *a)
{
	if (q->cmd == VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD) {
		/* [dev-prog-array-load]: this example has no program arrays, so a map is never one */
		fail(a, find_map(d, q->handle) == NULL ? VIRTIO_NET_XDP_S_EBADF : VIRTIO_NET_XDP_S_EINVAL);
		return;
	}
	const size_t slot = sizeof(struct virtio_net_xdp_insn);
	/* [dev-prog-map-ref], [dev-prog-call-forms]: pseudo sources and call forms the device offers */
	for (uint32_t i = 0; i < q->insn_cnt; i++) {
		const uint8_t *insn = q->insns + i * slot;
		uint8_t code = insn[offsetof(struct virtio_net_xdp_insn, code)];
		unsigned src = VIRTIO_NET_XDP_INSN_SRC_REG((const struct virtio_net_xdp_insn *)insn);
		if (code == BPF_LD_IMM64_CODE) {
			int value_addr = d->prog_features & VIRTIO_NET_XDP_PROG_F_MAP_VALUE_ADDR;
			if (src > 2 || (src == 2 && !value_addr)) {
				fail(a, VIRTIO_NET_XDP_S_EINVAL);
				return;
			}
			i++;
		} else if ((code == BPF_CALL_CODE &&
			    (src > 1 || (src == 1 && !(d->prog_features & VIRTIO_NET_XDP_PROG_F_BPF_TO_BPF_CALLS)))) ||
			   (code == BPF_CALLX_CODE && !(d->isa_groups & VIRTIO_NET_XDP_ISA_CALLX)) ||
			   ((code & 0x07) == BPF_LD && ((code & 0xe0) == BPF_ABS || (code & 0xe0) == BPF_IND))) {
			fail(a, VIRTIO_NET_XDP_S_EINVAL);
			return;
		}
	}
	for (uint32_t i = 0; i < q->insn_cnt; i++) {
		const uint8_t *insn = q->insns + i * slot;
		if (insn[offsetof(struct virtio_net_xdp_insn, code)] != BPF_LD_IMM64_CODE)
			continue;
		unsigned src = VIRTIO_NET_XDP_INSN_SRC_REG((const struct virtio_net_xdp_insn *)insn);
		if (src != 0 && find_map(d, rd32(insn + offsetof(struct virtio_net_xdp_insn, imm))) == NULL) {
			fail(a, VIRTIO_NET_XDP_S_EBADF);
			return;
		}
		i++;
	}
	/* The stub verifier: EACCES with the result [dev-prog-result-on-reject] asks for. */
	size_t room = q->log_size < d->max_log_size ? q->log_size : d->max_log_size;
	size_t log_len = room < sizeof STUB_LOG - 1 ? room : sizeof STUB_LOG - 1; /* [dev-prog-log] */
	size_t head = sizeof(struct virtio_net_xdp_prog_load_result);
	uint8_t *out = result_room(a, head + log_len);
	if (out == NULL) {
		fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		return;
	}
	wr32(out + offsetof(struct virtio_net_xdp_prog_load_result, insns_processed), 0);
	wr16(out + offsetof(struct virtio_net_xdp_prog_load_result, verify_mode), d->verify_mode);
	wr32(out + offsetof(struct virtio_net_xdp_prog_load_result, log_len), (uint32_t)log_len);
	memcpy(out + head, STUB_LOG, log_len);
	a->status = VIRTIO_NET_XDP_S_EACCES;
}

static void execute(struct device *d, const struct request *q, struct answer *a)
{
	switch (q->cmd) {
	case VIRTIO_NET_CTRL_XDP_CAPS_GET: {
		uint8_t *out = result_room(a, sizeof d->caps);
		if (out == NULL)
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
		else
			memcpy(out, d->caps, sizeof d->caps); /* [dev-caps-static] */
		return;
	}
	case VIRTIO_NET_CTRL_XDP_MAP_CREATE: map_create(d, q, a); return;
	case VIRTIO_NET_CTRL_XDP_MAP_FREE: map_free(d, q, a); return;
	case VIRTIO_NET_CTRL_XDP_PROG_LOAD:
	case VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD: program_load(d, q, a); return;
	case VIRTIO_NET_CTRL_XDP_PROG_UNLOAD: fail(a, VIRTIO_NET_XDP_S_ENOENT); return; /* [dev-prog-unload-none] */
	case VIRTIO_NET_CTRL_XDP_QUERY: {
		uint8_t *out = result_room(a, sizeof(struct virtio_net_xdp_query));
		if (out == NULL) {
			fail(a, VIRTIO_NET_XDP_S_ENOMEM);
			return;
		}
		/* no program ever attaches here: flags, insn_cnt and every counter stay zero */
		wr32(out + offsetof(struct virtio_net_xdp_query, map_count), d->map_count);
		wr64(out + offsetof(struct virtio_net_xdp_query, map_memory), d->memory);
		return;
	}
	default: element_command(d, q, a); return;
	}
}

/* ---- the front end ([dev-wire-precedence]) ---- */

/* Writes bytes into the writable segments, in order; returns how many. */
static size_t write_answer(struct segment *segments, size_t count, const uint8_t *bytes, size_t n)
{
	size_t done = 0;
	for (size_t i = 0; i < count && done < n; i++) {
		if (!segments[i].writable)
			continue;
		size_t k = segments[i].length < n - done ? segments[i].length : n - done;
		memcpy(segments[i].bytes, bytes + done, k);
		done += k;
	}
	return done;
}

static size_t answer_status(struct segment *segments, size_t count, int status, const uint8_t *result, size_t result_len)
{
	uint8_t *out = malloc(HEADER_SIZE + result_len);
	if (out == NULL)
		return 0;
	out[0] = status == VIRTIO_NET_XDP_S_OK ? VIRTIO_NET_OK : VIRTIO_NET_ERR; /* [dev-wire-ack-status] */
	memset(out + 1, 0, STATUS_SIZE);
	wr16(out + 1 + offsetof(struct virtio_net_xdp_status, status), (uint16_t)status);
	wr32(out + 1 + offsetof(struct virtio_net_xdp_status, result_len), (uint32_t)result_len); /* [dev-wire-result-len] */
	if (result_len > 0)
		memcpy(out + HEADER_SIZE, result, result_len);
	size_t used = write_answer(segments, count, out, HEADER_SIZE + result_len);
	free(out);
	return used;
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

size_t device_control(struct device *d, struct segment *segments, size_t count)
{
	if (d->broken)
		return 0;
	size_t readable = 0, room = 0;
	int seen_writable = 0, broken = 0;
	for (size_t i = 0; i < count; i++) {
		if (segments[i].writable) {
			seen_writable = 1;
			room += segments[i].length;
		} else {
			broken |= seen_writable; /* a readable buffer after a writable one */
			readable += segments[i].length;
		}
	}
	/* [dev-wire-broken]: not a command of any class; the device needs a reset */
	if (broken || readable < 2 || room == 0) {
		d->broken = 1;
		return 0;
	}
	uint8_t *part = malloc(readable);
	if (part == NULL)
		return 0;
	for (size_t i = 0, at = 0; i < count; i++)
		if (!segments[i].writable) {
			memcpy(part + at, segments[i].bytes, segments[i].length);
			at += segments[i].length;
		}
	size_t used;
	const uint8_t ack_error = VIRTIO_NET_ERR;
	if (part[0] != VIRTIO_NET_CTRL_XDP_OFFLOAD || room < HEADER_SIZE) {
		/* [dev-wire-other-class] (no other class here), [dev-wire-writable-short]: ack alone */
		used = write_answer(segments, count, &ack_error, 1);
		free(part);
		return used;
	}
	struct request q;
	struct answer a = { 0, NULL, 0 };
	size_t insn_cnt_at = part[1] == VIRTIO_NET_CTRL_XDP_PROG_LOAD	     ? 2 + offsetof(struct virtio_net_xdp_prog_load, insn_cnt)
			     : part[1] == VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD ? 2 + offsetof(struct virtio_net_xdp_prog_array_load, insn_cnt)
									      : 0;
	uint64_t element = (uint64_t)d->max_key_size + d->max_value_size;
	uint64_t longest = max64(2 + sizeof(struct virtio_net_xdp_map_update) + element,
				 max64(2 + sizeof(struct virtio_net_xdp_prog_array_load) + 8 * (uint64_t)d->max_insns,
				       2 + sizeof(struct virtio_net_xdp_map_update_batch) + d->max_batch * element));
	int status;
	if (insn_cnt_at != 0 && readable >= insn_cnt_at + 4 && rd32(part + insn_cnt_at) > d->max_insns)
		status = VIRTIO_NET_XDP_S_E2BIG; /* [dev-prog-limit], before reading further */
	else if (readable > longest)
		status = VIRTIO_NET_XDP_S_EINVAL; /* [dev-wire-request-size] */
	else if ((status = decode(part, readable, &q)) != 0)
		; /* [dev-wire-malformed] */
	else if (room < room_for(&q))
		status = VIRTIO_NET_XDP_S_EINVAL; /* [dev-wire-writable-short] */
	else if (!((d->negotiated[1] >> (VIRTIO_NET_F_XDP_OFFLOAD - 64)) & 1))
		status = VIRTIO_NET_XDP_S_EOPNOTSUPP; /* the feature is not negotiated */
	else if (d->migrating && (q.cmd == VIRTIO_NET_CTRL_XDP_MAP_CREATE || q.cmd == VIRTIO_NET_CTRL_XDP_PROG_LOAD ||
				  q.cmd == VIRTIO_NET_CTRL_XDP_PROG_ARRAY_LOAD))
		status = VIRTIO_NET_XDP_S_EAGAIN; /* [dev-migration] */
	else {
		execute(d, &q, &a);
		status = a.status;
	}
	/* a failure carries no result, but a verifier's refusal ([dev-prog-result-on-reject]) */
	int keep = status == VIRTIO_NET_XDP_S_OK || status == VIRTIO_NET_XDP_S_EACCES;
	used = answer_status(segments, count, status, keep ? a.result : NULL, keep ? a.result_len : 0);
	free(a.result);
	free(part);
	return used;
}
