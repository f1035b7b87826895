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
export {
  BPF_LD_IMM64,
  BpfMapType,
  BpfPseudo,
  BpfUpdateFlag,
  Errno,
  featureBit,
  HELPER_BITMAP_BYTES,
  IFF_XDP_OFFLOAD,
  invert,
  iowr,
  IsaGroup,
  LogLevel,
  nameOf,
  NextKeyFlag,
  OFFLOADABLE_HELPER_IDS,
  OffloadHelper,
  ProgFeature,
  ProgLoadFlag,
  QueryFlag,
  TUN_XDP_OFFLOAD_NR,
  TUN_XDP_OFFLOAD_SIZE,
  TUNXDPOFFLOAD,
  TunXdpOffloadOp,
  VIRTIO_NET_CTRL_XDP_OFFLOAD,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_XDP_OFFLOAD,
  VIRTIO_NET_OK,
  XdpAction,
  XdpCommand,
  type XdpCommandName,
  XdpStatus,
  type XdpStatusName,
} from './constants.js';
export { CODEC_ERROR_KINDS, CodecError, type CodecErrorKind } from './errors.js';
export { parseHex, toHex } from './hex.js';
export {
  type Json,
  requestFromJson,
  requestToJson,
  resultFromJson,
  resultToJson,
  structFromJson,
  structToJson,
} from './json.js';
export {
  COMMAND_FRAMES,
  type CommandFrame,
  commandName,
  type CommandTag,
  type ControlRequest,
  type ControlResult,
  type DataOf,
  decodeRequest,
  decodeResult,
  encodeFailure,
  encodeRequest,
  encodeResult,
  type RequestData,
  type RequestOf,
  type ResultData,
  isAnswerTo,
  resultOf,
  type ResultOf,
  type TypedCommandFrame,
  WRITABLE_HEADER_SIZE,
  writableSize,
} from './control.js';
export {
  ALL_LAYOUTS,
  bpfInsn,
  type BpfInsn,
  checkInsnPairs,
  ctrlAck,
  ctrlHeader,
  isLdImm64SecondSlot,
  tunXdpOffload,
  xdpCaps,
  xdpMapCreate,
  xdpMapDelete,
  xdpMapGetNextKey,
  xdpMapHandle,
  xdpMapKey,
  xdpMapLookup,
  xdpMapUpdate,
  xdpMapValue,
  xdpProgLoad,
  xdpProgLoadResult,
  xdpQuery,
  xdpStatus,
} from './structs.js';
export {
  type CapabilityNeeds,
  type Caps,
  capsBelowMinimum,
  helperBitSet,
  missingCapability,
  queryInconsistency,
} from './invariants.js';
export {
  type DecodeStream,
  type EncodeContext,
  type EncodeStream,
  type FieldType,
  newDecodeStream,
  newEncodeStream,
} from './streams.js';
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
export { definitionOfMapCreate, mapCreateOf, type MapDefinition } from './map-definition.js';
export {
  type CapsResult,
  type MapCreateRequest,
  type MapDeleteRequest,
  type MapGetNextKeyRequest,
  type MapHandleData,
  type MapKeyResult,
  type MapLookupRequest,
  type MapUpdateRequest,
  type MapValueResult,
  type ProgLoadRequest,
  type ProgLoadResult,
  type QueryResult,
  type RequestDataMap,
  type ResultDataMap,
} from './messages.js';
