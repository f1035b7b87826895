/**
 * Byte-exact codecs for every wire structure of the XDP offload spec: the control-queue framing of
 * class VIRTIO_NET_CTRL_XDP_OFFLOAD, each command's request and result, the capabilities,
 * `struct bpf_insn`, and the tun/tap ioctl argument. Decoders are strict: any malformed input gives a
 * {@link CodecError} naming the field and the byte offset.
 *
 * This module imports nothing of the reference model, so implementers can use it alone.
 *
 * @module codec
 */
export * from './constants.js';
export * from './errors.js';
export * from './hex.js';
export * from './json.js';
export * from './control.js';
export * from './structs.js';
export * from './invariants.js';
export * from './streams.js';
export { Layout, defineLayout, type ValueOf, type LayoutDefinition, type LayoutRule } from './layout.js';
export type {
  AnyField,
  IntConstraints,
  Field,
  FieldInfo,
  FieldsValue,
  CDeclaration,
  LengthOf,
  ElementCodec,
} from './fields.js';
