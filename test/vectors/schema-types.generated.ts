// Generated from vectors/schema/*.schema.json by `npm run gen` (json-schema-to-typescript). Do not edit.

/* eslint-disable */

export namespace SchemaCodecVectorFileTypes {
  export type Vector = {
    name: string;
    kind: 'valid' | 'malformed';
    /**
     * The spec section or requirement IDs the vector exercises.
     */
    spec: string;
    struct?: string;
    request?: Hex;
    hex: Hex;
    value?: {} | null;
    error?: Error;
  };
  export type Hex = string;

  /**
   * Byte-exact cases for the wire structures of the XDP offload control class. A 'valid' vector must decode to 'value' and 'value' must encode to exactly 'hex' (a round-trip fixed point). A 'malformed' vector must fail to decode with exactly the given error kind, field and byte offset. Hex may group bytes with single spaces; u64 values are decimal strings; byte strings are lowercase hex.
   */
  export interface SchemaCodecVectorFile {
    $schema?: string;
    format: 'virtio-xdp-offload/codec-vectors/1';
    description?: string;
    /**
     * request: a whole device-readable part (class, command, data). result: a whole device-writable part (ack, status header, result) answering the vector's 'request'. struct: one structure named by 'struct'.
     */
    target: 'request' | 'result' | 'struct';
    /**
     * @minItems 1
     */
    vectors: Vector[];
  }
  export interface Error {
    kind: 'truncated' | 'trailing' | 'range' | 'reserved' | 'unknown' | 'length' | 'type' | 'inconsistent';
    field: string;
    offset: number;
  }
}

export namespace SchemaScenarioFileTypes {
  export type Step = {
    do: 'control' | 'packet' | 'map' | 'reset' | 'migrate';
  } & Step1;
  export type Step1 =
    | {
        do: 'control';
        note: string;
        spec?: Spec;
        request?: Hex;
        writable?: number;
        segments?: (
          | {
              readable: Hex;
            }
          | {
              writable: number;
            }
        )[];
        expect: {
          command: string | null;
          status: StatusName | null;
          answer: Hex;
          /**
           * The device status has DEVICE_NEEDS_RESET set after this element: it broke the virtqueue's rules, or came after one that did, and the device answers nothing until reset ([dev-wire-broken]).
           */
          needs_reset?: true;
          /**
           * Fields of a PROG_LOAD or PROG_ARRAY_LOAD result the spec does not fix, compared by the spec's rule instead of byte for byte: insns_processed (any value) and log (printable ASCII, tab and newline, at most min(log_size, max_log_size) bytes, [dev-prog-log]); every other byte of the answer is compared exactly, and the answer must decode strictly. On a MAP_LOOKUP_BATCH answer holding a whole hash: order, the device's own ([dev-map-next-key]), so the elements are compared as a set.
           */
          unfixed?: ('insns_processed' | 'log' | 'order')[];
        };
      }
    | {
        do: 'packet';
        note: string;
        spec?: Spec;
        frame: Hex;
        queue?: number;
        expect: {
          offload: 'filtered' | 'bypass' | 'unfit' | 'aborted' | 'drop' | 'pass' | 'tx' | 'redirect';
          guest: Hex[];
          host: Hex[];
        };
      }
    | {
        do: 'map';
        note: string;
        spec?: Spec;
        handle: number;
        key_size: number;
        value_size: number;
        expect:
          | {
              entries: [Hex, Hex][];
            }
          | {
              status: StatusName;
            };
      }
    | {
        do: 'reset';
        note: string;
        spec?: Spec;
        expect: {};
      }
    | {
        do: 'migrate';
        note: string;
        spec?: Spec;
        /**
         * start: the migration stays in progress until a step with end; absent: it starts and ends at once.
         */
        phase?: 'start' | 'end';
        expect: {
          blocked: boolean;
        };
      };
  /**
   * Requirement identifiers the step checks.
   */
  export type Spec = string[];
  export type Hex = string;
  export type StatusName =
    | 'OK'
    | 'ENOENT'
    | 'EIO'
    | 'E2BIG'
    | 'EBADF'
    | 'EAGAIN'
    | 'ENOMEM'
    | 'EACCES'
    | 'EBUSY'
    | 'EEXIST'
    | 'EINVAL'
    | 'ENOSPC'
    | 'EOPNOTSUPP';

  /**
   * Scripted sessions through the whole offload path: a device on a tap whose offered features the session has negotiated, and a guest stack that receives what the device delivers. Steps run in order; each gives its inputs and, under expect, what a conforming device does: every byte it writes for a control element, the verdict and the frames that reach the guest or go back toward the host for a frame, the elements of a map read over the wire.
   */
  export interface SchemaScenarioFile {
    format: 'virtio-xdp-offload/scenarios/1';
    $schema?: string;
    description: string;
    /**
     * @minItems 1
     */
    scenarios: Scenario[];
  }
  export interface Scenario {
    name: string;
    description: string;
    setup: {
      queues?: number;
      /**
       * Frames come from an uplink through a learning bridge; host frames are those the bridge sends out of the uplink.
       */
      bridge?: boolean;
      /**
       * The device's whole capability set, in the JSON form of the CAPS_GET result (section X.6; le64 fields as decimal strings, the helper bitmap as hex): what the device under test is started with and what its CAPS_GET returns, byte for byte. The codec's strict decoder checks the rest (defined bits, minimums).
       */
      caps: {
        max_maps: number;
        max_entries: number;
        max_map_memory: string;
        max_key_size: number;
        max_value_size: number;
        max_insns: number;
        max_log_size: number;
        map_types: string;
        isa_groups: number;
        prog_features: number;
        xdp_headroom: number;
        max_frame_len: number;
        max_batch: number;
        helpers: string;
        percpu_slots: number;
        verify_mode: number;
      };
    };
    /**
     * @minItems 1
     */
    steps: Step[];
  }
}

export namespace SchemaVerifierVectorFileTypes {
  /**
   * BPF_PROG_LOAD verdicts of a real kernel for XDP programs: each program loaded privileged, unprivileged (XDP's own capabilities only), and privileged with strict alignment, with accept or reject, the errno, and the last log lines of a rejection. Maps are created in order as handles 1, 2, ...; ld_imm64 with src_reg 1 or 2 names a handle in imm.
   */
  export interface SchemaVerifierVectorFile {
    format: 'virtio-xdp-offload/verifier/1';
    description?: string;
    kernel: string;
    privileged: string;
    unprivileged: string;
    /**
     * @minItems 1
     */
    programs: {
      name: string;
      origin: 'probe' | 'program' | 'mutation' | 'generated';
      about: string;
      insns: string;
      maps: {
        handle: number;
        type: 1 | 2 | 3 | 5 | 6 | 9 | 11;
        key_size: number;
        value_size: number;
        max_entries: number;
      }[];
      privileged: Verdict;
      unprivileged: Verdict;
      strict?: Verdict1;
      /**
       * The reference verifier departs from the kernel's verdict on purpose: it may refuse, in any mode, a program the kernel accepted, or refuse with another errno; it never accepts what the kernel refused. The reason says why: a kernel acceptance that is unsafe, or precision or exploration order the reference does not model.
       */
      deviation?: {
        reason: string;
      };
    }[];
  }
  export interface Verdict {
    accepted: boolean;
    errno: number;
    log: string[];
  }
  /**
   * Loaded privileged with BPF_F_STRICT_ALIGNMENT.
   */
  export interface Verdict1 {
    accepted: boolean;
    errno: number;
    log: string[];
  }
}

export namespace SchemaXdpRunFileTypes {
  /**
   * One XDP program, the maps it uses (created in order as handles 1, 2, ...), whether a real kernel accepted it, and a sequence of BPF_PROG_TEST_RUN runs in order (maps keep their state between runs). Each run gives the frame, the errno of a refused run or the retval and the output bytes (data_meta to data_end), and every map's contents after the run (arrays: nonzero elements only; hashes: every element; program arrays are not listed), sorted by key. Programs in program-array slots come with the file.
   */
  export interface SchemaXdpRunFile {
    format: 'virtio-xdp-offload/xdp-runs/1';
    description?: string;
    /**
     * uname -r of the kernel that produced the answers.
     */
    kernel: string;
    program: {
      name: string;
      source: string;
      /**
       * Instruction slots, hex; ld_imm64 with src_reg 1 carries a map handle in imm.
       */
      insns: string;
    };
    maps: {
      handle: number;
      type: 1 | 2 | 3 | 5 | 6 | 9 | 11;
      key_size: number;
      value_size: number;
      max_entries: number;
      /**
       * Global data: the initial value of element 0 (hex), set before the program loads.
       */
      data?: string;
    }[];
    /**
     * Programs placed in program-array slots (the object's declared slots) after the maps are created and before the program loads; each is loaded as its own XDP program, its ld_imm64 map references naming the same handles.
     */
    slots?: {
      /**
       * Handle of the program array.
       */
      map: number;
      index: number;
      program: {
        name: string;
        insns: string;
      };
    }[];
    load: {
      accepted: boolean;
      errno: number;
      log: string[];
    };
    runs: {
      name: string;
      packet: string;
      errno: number;
      retval: number | null;
      output: string | null;
      maps: {
        handle: number;
        entries: [string, string][];
      }[];
    }[];
  }
}

export namespace SchemaProgramConformanceFileTypes {
  /**
   * One half of the normative program corpus of section X.8.6: programs every conforming device must accept (part 'accept', status OK) or must refuse with the given status (part 'refuse'), each loaded as a driver would load it: maps created in order as handles 1, 2, ... under the device's default capabilities, then PROG_LOAD. linux_errno is informative: Linux 6.1's answer to the same program loaded with CAP_BPF and CAP_NET_ADMIN only.
   */
  export interface SchemaProgramConformanceFile {
    format: 'virtio-xdp-offload/program-conformance/1';
    part: 'accept' | 'refuse';
    description: string;
    /**
     * @minItems 1
     * @maxItems 100000
     */
    programs: {
      name: string;
      about: string;
      insns: string;
      maps: {
        handle: number;
        type: 1 | 2 | 3 | 5 | 6 | 9 | 11;
        key_size: number;
        value_size: number;
        max_entries: number;
      }[];
      status:
        | 'OK'
        | 'ENOENT'
        | 'EIO'
        | 'E2BIG'
        | 'EBADF'
        | 'EAGAIN'
        | 'ENOMEM'
        | 'EACCES'
        | 'EBUSY'
        | 'EEXIST'
        | 'EINVAL'
        | 'ENOSPC'
        | 'EOPNOTSUPP';
      linux_errno: number;
    }[];
  }
}
