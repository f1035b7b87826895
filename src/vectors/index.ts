/**
 * Golden vectors: schema validation and replay through the codecs.
 *
 * @module vectors
 */
export * from './codec-vectors.js';
export * from './replay.js';
export * from './xdp-vectors.js';
export * from './verifier-vectors.js';
export { schemaErrors, schemaValidator, VECTORS_DIR } from './schema.js';
export * from './scenario-vectors.js';
export * from './scenario-writer.js';
