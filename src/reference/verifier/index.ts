/**
 * The host verifier: decides, as Linux 6.1 does, whether an offloaded XDP program is safe. So far the
 * structural phase exists; the abstract interpretation that follows it is being built.
 *
 * @module verifier
 */
export * from './structure.js';
