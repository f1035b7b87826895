// Reads the doc comments of the members of the codec's constant tables (`export const NAME = {...}`
// in src/codec/constants.ts), so that the spec's constant tables take their meanings from the one
// place that also documents them for TypeScript users.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import type { MemberDoc } from '../src/codec/render.js';

const CONSTANTS = 'src/codec/constants.ts';

/** The doc comment text of every member of every constant table: table → member → text. */
export function constantMemberDocs(path = CONSTANTS): MemberDoc {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const docs = new Map<string, Map<string, string>>();
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      let init = declaration.initializer;
      while (init !== undefined && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)))
        init = init.expression;
      if (init === undefined || !ts.isObjectLiteralExpression(init) || !ts.isIdentifier(declaration.name))
        continue;
      const members = new Map<string, string>();
      for (const property of init.properties) {
        if (!ts.isPropertyAssignment(property) || property.name === undefined) continue;
        const comment = ts
          .getJSDocCommentsAndTags(property)
          .map((d) => (ts.isJSDoc(d) ? ts.getTextOfJSDocComment(d.comment) : undefined))
          .find((c) => c !== undefined);
        if (comment !== undefined) members.set(property.name.getText(source), comment.replace(/\s+/g, ' '));
      }
      docs.set(declaration.name.text, members);
    }
  }
  return (table, member) => docs.get(table)?.get(member);
}
