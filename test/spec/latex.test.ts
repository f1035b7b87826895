// The spec's rendition in virtio-spec's LaTeX conventions builds to PDF with Debian's texlive: no
// error, no undefined reference, and every requirement of the VIRTIO part and every normative
// section resolved as a label, so the conformance entries point at real sections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirements } from '../../scripts/requirements.js';

test('spec/latex builds to PDF with pdflatex, every requirement and normative section a resolved label', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xdp-latex-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync('spec/latex', dir, { recursive: true });
  // Three runs: the table of contents and the conformance references settle on the second and third.
  for (let run = 0; run < 3; run++)
    execFileSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'standalone.tex'], {
      cwd: dir,
      stdio: 'pipe',
    });
  const log = readFileSync(join(dir, 'standalone.log'), 'latin1');
  assert.doesNotMatch(log, /undefined references|Reference `[^']*' on page/);
  assert.doesNotMatch(log, /Label\(s\) may have changed/);
  const pages = /Output written on standalone\.pdf \((\d+) pages/.exec(log);
  assert.ok(pages !== null && Number(pages[1]) >= 20, `a PDF of ${pages?.[1]} pages`);
  const aux = readFileSync(join(dir, 'standalone.aux'), 'latin1');
  const vir = requirements().filter((r) => r.file === 'xdp-offload.md');
  assert.ok(vir.length >= 80);
  for (const r of vir) assert.ok(aux.includes(`\\newlabel{req:${r.id}}`), `no label for [${r.id}]`);
  const conformance = readFileSync('spec/latex/conformance-list-dev.tex', 'utf8');
  const refs = [...conformance.matchAll(/\\ref\{([^}]+)\}/g)].map((m) => m[1] as string);
  assert.ok(refs.some((r) => r.startsWith('devicenormative:')));
  for (const ref of refs) assert.ok(aux.includes(`\\newlabel{${ref}}`), `conformance entry ${ref} resolves`);
});
