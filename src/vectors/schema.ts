/**
 * JSON Schema validation of vector files (draft 2020-12, with ajv).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** The folder holding the committed vectors and their schemas (inside the package). */
export const VECTORS_DIR = new URL('../../vectors/', import.meta.url);

const validators = new Map<string, ValidateFunction>();

/** The compiled validator of a schema file in `vectors/schema/`. */
export function schemaValidator(schemaFile: string): ValidateFunction {
  const cached = validators.get(schemaFile);
  if (cached !== undefined) return cached;
  const schema = JSON.parse(readFileSync(new URL(`schema/${schemaFile}`, VECTORS_DIR), 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: false, strict: true });
  const validate = ajv.compile(schema);
  validators.set(schemaFile, validate);
  return validate;
}

/**
 * Schema errors of a document as readable lines (empty when valid).
 *
 * @example
 * ```ts
 * schemaErrors('xdp-runs.schema.json', { format: 'virtio-xdp-offload/xdp-runs/1' });
 * // [ "/ must have required property 'kernel'" ]
 * ```
 */
export function schemaErrors(schemaFile: string, document: unknown): string[] {
  const validate = schemaValidator(schemaFile);
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}
