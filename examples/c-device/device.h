/* A minimal virtio-net XDP offload device, written from spec/include/virtio_net_xdp_offload.h and the
 * spec's text alone: the control class's front end, array and hash maps, and PROG_LOAD up to the
 * verifier, which here is a stub that refuses every program with EACCES. It keeps no host file
 * descriptor, so nothing of the host can reach the guest. */
#ifndef C_DEVICE_DEVICE_H
#define C_DEVICE_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include "virtio_net_xdp_offload.h"

/* One descriptor of a control element. */
struct segment {
	int writable;
	uint8_t *bytes; /* readable: the bytes; writable: zeroed room the device writes into */
	size_t length;
};

struct device;

/* A new instance advertising the 96-byte caps structure given. NULL when out of memory. */
struct device *device_new(const uint8_t caps[sizeof(struct virtio_net_xdp_caps)]);
void device_free(struct device *d);

/* The features offered, as two 64-bit halves (bits 0-63 and 64-127). */
void device_offered(const struct device *d, uint64_t features[2]);
/* The driver writes its features and sets FEATURES_OK: 1 when accepted. Resets the device first. */
int device_negotiate(struct device *d, const uint64_t features[2]);
/* Device reset. */
void device_reset(struct device *d);
/* Serves one element; returns the used length (bytes written from the start of the writable part). */
size_t device_control(struct device *d, struct segment *segments, size_t count);
/* Whether DEVICE_NEEDS_RESET is set. */
int device_needs_reset(const struct device *d);
/* A migration attempt: 1 when blocked (offloaded state exists). phase: 0 start, 1 end, 2 both. */
int device_migrate(struct device *d, int phase);

/* Extension introspect: the offloaded state as text (malloc'd, NUL-terminated; NULL when out of
 * memory). Equal texts mean equal state: the next handle, every map and every element. */
char *device_snapshot(const struct device *d);
/* Extension introspect: maps that exist and their accounted memory. */
void device_usage(const struct device *d, uint32_t *maps, uint64_t *memory);

#endif
