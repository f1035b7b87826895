// The TypeScript types the vector schemas describe, generated with json-schema-to-typescript into
// test/vectors/schema-types.generated.ts; test/vectors/schema-types.test.ts checks at compile time
// that a document the schema accepts has the package's own vector type (the cast after validation
// holds), and the generated-files check keeps the file in step with the schemas.
import { readFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';

/** Schema file → the name of the root type generated for it. */
export const SCHEMA_TYPES: Readonly<Record<string, string>> = {
  'codec-vectors.schema.json': 'SchemaCodecVectorFile',
  'scenarios.schema.json': 'SchemaScenarioFile',
  'verifier.schema.json': 'SchemaVerifierVectorFile',
  'xdp-runs.schema.json': 'SchemaXdpRunFile',
  'program-conformance.schema.json': 'SchemaProgramConformanceFile',
};

export const SCHEMA_TYPES_PATH = 'test/vectors/schema-types.generated.ts';

/**
 * The same schema in the forms json-schema-to-typescript reads (equivalent for validation): draft
 * 2020-12's `prefixItems` as the older tuple `items`, and an object's `required` repeated in each of
 * its `oneOf` branches (the generator otherwise drops what the branches do not name).
 */
function forTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forTypes);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = forTypes(value);
  if (Array.isArray(out.prefixItems)) {
    out.items = out.prefixItems;
    out.additionalItems = false;
    delete out.prefixItems;
  }
  if (Array.isArray(out.oneOf) && Array.isArray(out.required))
    out.oneOf = out.oneOf.map((branch: unknown) =>
      typeof branch === 'object' && branch !== null
        ? {
            ...branch,
            required: [
              ...new Set([
                ...(out.required as string[]),
                ...(((branch as Record<string, unknown>).required as string[] | undefined) ?? []),
              ]),
            ],
          }
        : branch,
    );
  return out;
}

/** The generated module's text. */
export async function renderSchemaTypes(): Promise<string> {
  const parts = [
    '// Generated from vectors/schema/*.schema.json by `npm run gen` (json-schema-to-typescript). Do not edit.',
    '/* eslint-disable */',
  ];
  for (const [file, name] of Object.entries(SCHEMA_TYPES)) {
    const schema = JSON.parse(readFileSync(`vectors/schema/${file}`, 'utf8')) as Record<string, unknown>;
    // Each schema in its own namespace: their inner definitions may share names.
    const text = await compile({ ...(forTypes(schema) as Record<string, unknown>), title: name }, name, {
      bannerComment: '',
      additionalProperties: false,
      ignoreMinAndMaxItems: true,
      format: false,
    });
    parts.push(`export namespace ${name}Types {\n${text}}`);
  }
  // Formatted as the repository formats TypeScript, so the committed file is exactly this text.
  const options = (await resolveConfig(SCHEMA_TYPES_PATH)) ?? {};
  return format(parts.join('\n\n') + '\n', { ...options, parser: 'typescript' });
}
