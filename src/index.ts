/**
 * virtio-xdp-offload: the executable twin of the virtio-net XDP offload draft. The codecs are also
 * available alone as `virtio-xdp-offload/codec`, the vector replayer as `virtio-xdp-offload/vectors`.
 *
 * @module virtio-xdp-offload
 */
export * from './codec/index.js';
export * from './vectors/index.js';
