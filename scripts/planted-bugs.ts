// Bugs planted on purpose in a copy of the reference, so a campaign can show it finds the class of
// bug it exists for. Each is a textual edit of one source file: the copy of src/ under
// .tmp/planted/<name>/ gets the edit, and the campaign imports its module from there. An edit whose
// text is no longer in the source fails loudly, so the list cannot rot silently.
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** One planted bug: what it breaks, and the edit that breaks it. */
export interface PlantedBug {
  /** The Linux rule the edit removes. */
  readonly rule: string;
  /** The file under src/ that is edited. */
  readonly file: string;
  /** Text that must occur exactly once in the file... */
  readonly find: string;
  /** ...and what it becomes. */
  readonly replace: string;
}

const CHECK = 'reference/verifier/check.ts';

/** The verifier's planted bugs, each one of the classes its soundness campaign must find. */
export const VERIFIER_BUGS: Readonly<Record<string, PlantedBug>> = {
  'callsite-pruning': {
    rule: 'states_equal compares each frame\u2019s callsite: code after a second call of a function is checked',
    file: CHECK,
    find: '  if (a.callsite !== b.callsite) return false;\n',
    replace: '',
  },
  'packet-range': {
    rule: 'check_packet_access: off + size <= range (off by one)',
    file: CHECK,
    find: 'if (total < 0 || total + size > reg.range) {',
    replace: 'if (total < 0 || total + size > reg.range + 1) {',
  },
  'lookup-not-null': {
    rule: 'map_lookup_elem returns PTR_TO_MAP_VALUE_OR_NULL, which must be null-checked',
    file: CHECK,
    find: "? ptr('map_value_or_null', { map: mapArg as MapDefinition, id: ++this.idGen })",
    replace: "? ptr('map_value', { map: mapArg as MapDefinition, id: ++this.idGen })",
  },
  'leak-into-map': {
    rule: 'check_mem_access: "R%d leaks addr into map" without CAP_PERFMON',
    file: CHECK,
    find: 'if (write && value !== undefined && isPointer(value) && !this.options.privileged)\n          fail(Errno.EACCES, pc, `R${this.regIndex(state, value)} leaks addr into map`);',
    replace: '',
  },
  'helper-write-keeps-spill': {
    rule: 'check_helper_call: a helper\u2019s raw stack write destroys the spills it covers',
    file: CHECK,
    find: 'for (let at = from; at < to; at++) this.stackWrite(state, frame, at, 1, undefined, pc);',
    replace:
      'for (let at = from; at < to; at++)\n        if (frame.bytes[512 + at] !== Byte.Spill) this.stackWrite(state, frame, at, 1, undefined, pc);',
  },
};

const DOMAIN = 'reference/verifier/domain.ts';

/** Bugs planted in the abstract domain, each of a class its mechanical check must find. */
export const DOMAIN_BUGS: Readonly<Record<string, PlantedBug>> = {
  'signed-bounds': {
    rule: 'a range reaching the sign bit says nothing of the sign (__reg_deduce_bounds)',
    file: DOMAIN,
    find: 'const signed = max > SMAX ? { smin: SMIN, smax: SMAX } : { smin: 0n, smax: max };',
    replace: 'const signed = { smin: 0n, smax: max > SMAX ? SMAX : max };',
  },
  'tnum-add-carry': {
    rule: 'tnum_add: a carry from an unknown bit of either operand is unknown',
    file: DOMAIN,
    find: 'const mu = (u(sm + sv) ^ sv) | a.mask | b.mask;',
    replace: 'const mu = (u(sm + sv) ^ sv) | a.mask;',
  },
  'jgt-off-by-one': {
    rule: 'reg_set_min_max: the fall-through of x > v has umax v',
    file: DOMAIN,
    find: 'return [keep(b, a, { umin: v + 1n }), keep(b, a, { umax: v })];',
    replace: 'return [keep(b, a, { umin: v + 1n }), keep(b, a, { umax: v - 1n })];',
  },
  'zext-keeps-bounds': {
    rule: 'a 32-bit result keeps 64-bit bounds only when they fit in 32 bits (zext_32_to_64)',
    file: DOMAIN,
    find: 'if (x.umax <= H) return x;',
    replace: 'if (x.umin <= H) return x;',
  },
  'lsh-overflow': {
    rule: 'scalar_min_max_lsh: bounds shift only when the largest value does not overflow',
    file: DOMAIN,
    find: 'if (a.umax << n <= top)',
    replace: 'if (a.umax <= top)',
  },
};

const MAPS = 'reference/ebpf/maps.ts';
const DRIVER = 'reference/driver/driver.ts';

/** Bugs planted in the device, each of a class the hostile-guest campaign (its `mode`) must find. */
export const DEVICE_BUGS: Readonly<Record<string, PlantedBug & { readonly mode: 'mixed' | 'limits' }>> = {
  'values-retained': {
    rule: '[dev-resource-bounded]: what a map stores is released with the element (here every value written is kept)',
    mode: 'limits',
    file: MAPS,
    find: '  update(key: Uint8Array, value: Uint8Array, flags: number): number {\n    const got = this.element(key, flags);',
    replace:
      '  update(key: Uint8Array, value: Uint8Array, flags: number): number {\n    ((globalThis as unknown as { kept?: Uint8Array[] }).kept ??= []).push(Uint8Array.from(value));\n    const got = this.element(key, flags);',
  },
  'next-key-scans': {
    rule: '[dev-resource-bounded]: GET_NEXT_KEY finds the key through the index (here by comparing every key as text)',
    mode: 'limits',
    file: MAPS,
    find: '    const slot = key === null || key.length !== this.definition.keySize ? NONE : table.slotOf(key);',
    replace: [
      '    let slot = NONE;',
      "    const text = (k: Uint8Array) => { let t = ''; for (const b of k) t += String.fromCharCode(b); return t; };",
      '    if (key !== null) for (let s = table.order.head; s !== NONE; s = table.order.next[s] as number) if (text(table.keyOf(s)) === text(key)) { slot = s; break; }',
    ].join('\n'),
  },
  'refused-slot-filled': {
    rule: '[dev-prog-array-load]: a PROG_ARRAY_LOAD the verifier refuses leaves the slot as it was (here the program is placed first)',
    mode: 'mixed',
    file: 'reference/device/device.ts',
    find: "    if (status !== XdpStatus.OK) return { command: 'PROG_ARRAY_LOAD', ack: VIRTIO_NET_ERR, status, result };\n    const program = this.backend.engine.load(d.insns, this.maps);\n    map.set(d.index, { program, insnCnt: d.insn_cnt, handles });",
    replace:
      "    map.set(d.index, { program: this.backend.engine.load(d.insns, this.maps), insnCnt: d.insn_cnt, handles });\n    if (status !== XdpStatus.OK) return { command: 'PROG_ARRAY_LOAD', ack: VIRTIO_NET_ERR, status, result };",
  },
  'insn-cnt-after-decode': {
    rule: '[dev-prog-limit]: E2BIG from insn_cnt alone, before the instructions are read',
    mode: 'mixed',
    file: 'reference/device/frontend.ts',
    find: 'const refused = bounds === undefined ? undefined : refusedUnread(element, bounds);',
    replace: 'const refused = bounds === undefined ? undefined : (undefined as number | undefined);',
  },
};

/**
 * Bugs planted for the conformance kit, which must find each through a real process boundary (the
 * planted copy's `<serves>-serve`), and say so in a line matching `finds`.
 */
export const KIT_BUGS: Readonly<
  Record<string, PlantedBug & { readonly serves: 'device' | 'engine' | 'verifier'; readonly finds: RegExp }>
> = {
  'unload-none-ok': {
    rule: '[dev-prog-unload-none]: PROG_UNLOAD with no program attached is ENOENT (here OK)',
    serves: 'device',
    finds: /^ {4}step \d+ \(control: .*\[dev-prog-unload-none\]/m,
    file: 'reference/device/device.ts',
    find: 'if (this.attached === undefined) return this.fail(request, XdpStatus.ENOENT); // [dev-prog-unload-none]',
    replace: 'if (this.attached === undefined) return this.ok(request, null);',
  },
  'adjust-tail-ignored': {
    rule: 'bpf_xdp_adjust_tail moves data_end (here it returns 0 and moves nothing)',
    serves: 'engine',
    finds: /^ {2}FAIL encap_trim\/\d+:.*: output /m,
    file: 'reference/ebpf/helpers.ts',
    find: '    setR0(vm, xdp.adjustTail(vm.lo[2] as number));',
    replace: '    setR0(vm, 0);',
  },
  'packet-range': {
    ...(VERIFIER_BUGS['packet-range'] as PlantedBug),
    serves: 'verifier',
    finds: /^ {2}FAIL .*: (privileged|unprivileged|strict): accepted, kernel errno 13/m,
  },
};

/** Bugs planted in the guest driver, each of a class the lying-device campaign must find. */
export const DRIVER_BUGS: Readonly<Record<string, PlantedBug>> = {
  'dump-follows-device': {
    rule: '[drv-map-iterate-bounded]: a dump ends at a repeated key or past max_entries',
    file: DRIVER,
    find: '      if (seen.has(id) || seen.size >= map.def.maxEntries) return false;',
    replace: '',
  },
  'query-unchecked': {
    rule: '[drv-query-check]: QUERY counters must add up',
    file: DRIVER,
    find: '    return caps === undefined || queryInconsistency(result, caps) !== undefined ? GuestErrno.EIO : result;',
    replace: '    return caps === undefined ? GuestErrno.EIO : result;',
  },
};

/**
 * Copies src/ with one bug planted and returns the path of the copy's `module` (relative to src/),
 * ready for a dynamic import. Throws when the edit no longer applies.
 */
export function plant(name: string, bug: PlantedBug, module: string): string {
  const root = resolve('.tmp/planted', name);
  rmSync(root, { recursive: true, force: true });
  cpSync('src', join(root, 'src'), { recursive: true });
  // The copy reads the shipped vectors (the fuzzer's corpus) where src/ expects them.
  symlinkSync(resolve('vectors'), join(root, 'vectors'));
  const path = join(root, 'src', bug.file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(bug.find);
  if (at < 0 || text.indexOf(bug.find, at + 1) >= 0)
    throw new Error(
      `planted bug ${name}: its text occurs ${at < 0 ? 'nowhere' : 'twice'} in src/${bug.file}`,
    );
  writeFileSync(path, text.slice(0, at) + bug.replace + text.slice(at + bug.find.length));
  return pathToFileURL(join(root, 'src', module)).href;
}
