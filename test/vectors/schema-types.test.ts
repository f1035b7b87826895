// The package's vector types against the vector schemas: at compile time (npm run typecheck), every
// document a schema accepts has the package's type for it, so the cast a replay makes after
// validating a file holds. The schema side is generated from the schemas themselves
// (schema-types.generated.ts, kept in step by the generated-files check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  CodecVectorFile,
  ProgramConformanceFile,
  ScenarioFile,
  VerifierVectorFile,
  XdpRunFile,
} from '../../src/vectors/index.js';
import type {
  SchemaCodecVectorFileTypes,
  SchemaProgramConformanceFileTypes,
  SchemaScenarioFileTypes,
  SchemaVerifierVectorFileTypes,
  SchemaXdpRunFileTypes,
} from './schema-types.generated.js';

/** Compiles only when every value of `A` is a value of `B` (the identity must type-check). */
const holds = <A, B>(identity: (a: A) => B): boolean => typeof identity === 'function';

const checks = {
  codec: holds<SchemaCodecVectorFileTypes.SchemaCodecVectorFile, CodecVectorFile>((d) => d),
  scenarios: holds<SchemaScenarioFileTypes.SchemaScenarioFile, ScenarioFile>((d) => d),
  verifier: holds<SchemaVerifierVectorFileTypes.SchemaVerifierVectorFile, VerifierVectorFile>((d) => d),
  xdp: holds<SchemaXdpRunFileTypes.SchemaXdpRunFile, XdpRunFile>((d) => d),
  programs: holds<SchemaProgramConformanceFileTypes.SchemaProgramConformanceFile, ProgramConformanceFile>(
    (d) => d,
  ),
};

test('every schema-valid vector document has the package type for it (checked by the compiler)', () => {
  assert.deepEqual(Object.values(checks), [true, true, true, true, true]);
});
