// The spec in virtio-spec's own LaTeX conventions, rendered from the same Markdown (after its
// tables are filled from the codec): sections with virtio-style labels, "Device Requirements" and
// "Driver Requirements" headings as \devicenormative and \drivernormative, structures as
// lstlisting blocks in VIRTIO's types, and a conformance.tex fragment that lists the normative
// sections. A standalone preamble defines the same macros, so the rendition builds to PDF without
// the virtio-spec tree; in that tree, the section file drops into the network device's chapter.
import { ALL_LAYOUTS, type Layout } from '../src/codec/index.js';
import { virtioStructListing } from '../src/codec/render.js';

/** Where the rendition sits in virtio-spec's label space. */
const LABEL_BASE = 'Device Types / Network Device / XDP Offload';

export const LATEX_SECTION_PATH = 'spec/latex/xdp-offload.tex';
export const LATEX_CONFORMANCE_PATH = 'spec/latex/conformance-xdp-offload.tex';
export const LATEX_STANDALONE_PATH = 'spec/latex/standalone.tex';

/** Characters outside ASCII that the spec uses, as LaTeX that every engine reads. */
const UNICODE: Record<string, string> = {
  '×': '$\\times$',
  '–': '--',
  '—': '---',
  '≤': '$\\le$',
  '≥': '$\\ge$',
  '→': '$\\rightarrow$',
  '’': "'",
  '‘': '`',
  '“': '``',
  '”': "''",
  '…': '\\ldots{}',
};

/** LaTeX for plain text: the special characters escaped, the known non-ASCII ones replaced. */
export function escapeText(text: string): string {
  let out = '';
  for (const ch of text) {
    const mapped = UNICODE[ch];
    if (mapped !== undefined) out += mapped;
    else if (ch === '\\') out += '\\textbackslash{}';
    else if ('&%$#_{}'.includes(ch)) out += `\\${ch}`;
    else if (ch === '~') out += '\\textasciitilde{}';
    else if (ch === '^') out += '\\textasciicircum{}';
    else if (ch === '<') out += '\\textless{}';
    else if (ch === '>') out += '\\textgreater{}';
    else if (ch === '|') out += '\\textbar{}';
    else if (ch.charCodeAt(0) > 0x7e) throw new Error(`no LaTeX rendering for ${JSON.stringify(ch)}`);
    else out += ch;
  }
  return out;
}

/** Every field name of every structure: inline code that is one becomes \field{}, as VIRTIO writes. */
const FIELD_NAMES = new Set(ALL_LAYOUTS.flatMap((l: Layout) => l.fields.map((f) => f.name)));

/** Inline Markdown (code, bold, emphasis, links, requirement IDs) as LaTeX. */
export function inline(text: string): string {
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*|\[([^\]]+)\]\(([^)]+)\)/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out += escapeText(text.slice(last, m.index));
    const [, code, bold, em, linkText] = m;
    if (code !== undefined) {
      const id = /^\[((?:dev|drv|tun)-[a-z0-9-]+)\]$/.exec(code);
      if (id !== undefined && id !== null) out += `\\reqid{${id[1] as string}}`;
      else if (FIELD_NAMES.has(code)) out += `\\field{${escapeText(code)}}`;
      else out += `\\texttt{${escapeText(code)}}`;
    } else if (bold !== undefined) out += `\\textbf{${inline(bold)}}`;
    else if (em !== undefined) out += `\\emph{${inline(em)}}`;
    else if (linkText !== undefined) out += inline(linkText);
    last = (m.index ?? 0) + m[0].length;
  }
  return out + escapeText(text.slice(last));
}

/** A Markdown table as a longtable whose last column takes the remaining width. */
function table(rows: readonly string[]): string {
  const cells = (row: string) =>
    row
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim().replace(/\\\|/g, '|'));
  const [head, , ...body] = rows;
  const all = [head ?? '', ...body].map(cells);
  const columns = cells(head ?? '').length;
  // Each column as wide as its longest cell asks (long prose capped), within the line's width.
  const want = Array.from({ length: columns }, (_, c) =>
    Math.min(48, Math.max(4, ...all.map((r) => (r[c] ?? '').replace(/`/g, '').length))),
  );
  const total = want.reduce((a, b) => a + b, 0);
  const spec = want.map((w) => `p{${((0.92 * w) / total).toFixed(3)}\\linewidth}`).join('|');
  const line = (row: string, bold: boolean) =>
    cells(row)
      .map((c) => (bold ? `\\textbf{${inline(c)}}` : inline(c)))
      .join(' & ') + ' \\\\ \\hline';
  return [
    `{\\small\\begin{longtable}{|${spec}|}`,
    '\\hline',
    line(head ?? '', true),
    '\\endhead',
    ...body.map((r) => line(r, false)),
    '\\end{longtable}}',
  ].join('\n');
}

/** Label text: what LaTeX's \\label keeps safely (letters, digits, spaces and / : . -). */
function labelText(text: string): string {
  return text.replace(/[^A-Za-z0-9 /:.-]/g, '');
}

/** What a heading becomes: its LaTeX and the label it defines (with its prefix). */
function heading(level: number, title: string): { latex: string; label: string } {
  const command = level <= 2 ? '\\subsection' : '\\subsubsection';
  const bare = title.replace(/^X\.[0-9.]+\s+/, '').replace(/^[A-Z]\.[0-9]+\s+/, '');
  const normative = /^(Device|Driver) Requirements: (.+)$/.exec(bare);
  if (normative !== null) {
    const kind = normative[1] === 'Device' ? 'devicenormative' : 'drivernormative';
    const what = normative[2] as string;
    const label = labelText(`${LABEL_BASE} / ${what}`);
    return { latex: `\\${kind}{${command}}{${escapeText(what)}}{${label}}`, label: `${kind}:${label}` };
  }
  const label = `sec:${labelText(`${LABEL_BASE} / ${bare}`)}`;
  return { latex: `${command}{${escapeText(bare)}}\\label{${label}}`, label };
}

/** The structure a `<!-- struct:NAME -->` block shows. */
function structure(name: string): string {
  const layout = ALL_LAYOUTS.find((l) => l.cName === name);
  if (layout === undefined) throw new Error(`no layout ${name}`);
  const fields = layout.fields.map((f) => `\\item[\\field{${escapeText(f.name)}}] ${inline(f.doc)}`);
  return [
    `\\noindent\\textbf{${escapeText(`struct ${layout.cName}`)}}: ${inline(layout.doc)}`,
    '\\begin{lstlisting}',
    virtioStructListing(layout),
    '\\end{lstlisting}',
    '\\begin{description}',
    ...fields,
    '\\end{description}',
  ].join('\n');
}

/** Sections that state requirements of a conformance target: their labels, in order. */
export interface NormativeSections {
  /** `devicenormative:` labels and `sec:` labels of sections with device requirements. */
  readonly dev: string[];
  /** The same for driver requirements. */
  readonly drv: string[];
}

/**
 * Renders one Markdown document (tables filled) as LaTeX, and collects the labels of the sections
 * whose bullets state `dev-` or `drv-` requirements.
 */
export function renderDocument(markdown: string, normative: NormativeSections): string {
  const lines = markdown.replace(/^---\n[\s\S]*?\n---\n/, '').split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  let items: string[] = [];
  let label = '';
  const flushParagraph = () => {
    if (paragraph.length > 0) out.push(inline(paragraph.join(' ')), '');
    paragraph = [];
  };
  const flushItems = () => {
    if (items.length === 0) return;
    out.push('\\begin{itemize}', ...items.map((i) => `\\item ${bullet(i)}`), '\\end{itemize}', '');
    items = [];
  };
  const bullet = (text: string) => {
    const id = /^\[((?:dev|drv|tun)-[a-z0-9-]+)\]\s+([\s\S]*)$/.exec(text);
    if (id === null) return inline(text);
    const target = (id[1] as string).slice(0, 3) as 'dev' | 'drv' | 'tun';
    if (target !== 'tun' && !normative[target].includes(label)) normative[target].push(label);
    return `\\reqid{${id[1] as string}}\\label{req:${id[1] as string}} ${inline(id[2] as string)}`;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const struct = /^<!-- struct:([a-z0-9_]+) -->$/.exec(line);
    if (struct !== null) {
      flushParagraph();
      flushItems();
      while (i < lines.length && lines[i] !== '<!-- /struct -->') i++;
      out.push(structure(struct[1] as string), '');
      continue;
    }
    const conformance = /^<!-- conformance:(dev|drv) -->$/.exec(line);
    if (conformance !== null) {
      flushParagraph();
      while (i < lines.length && lines[i] !== '<!-- /conformance -->') i++;
      const target = conformance[1] as 'dev' | 'drv';
      out.push(`\\input{conformance-list-${target}}`, '');
      continue;
    }
    if (line.startsWith('<!--')) continue;
    const h = /^(#{1,3}) (.+)$/.exec(line);
    if (h !== null) {
      flushParagraph();
      flushItems();
      const level = (h[1] as string).length;
      if (level === 1) continue; // the document title: the chapter's own
      const rendered = heading(level, h[2] as string);
      label = rendered.label;
      out.push(rendered.latex, '');
      continue;
    }
    if (line.startsWith('|')) {
      flushParagraph();
      flushItems();
      const rows: string[] = [];
      while (i < lines.length && (lines[i] as string).startsWith('|')) rows.push(lines[i++] as string);
      i--;
      out.push(table(rows), '');
      continue;
    }
    const item = /^- (.*)$/.exec(line);
    if (item !== null) {
      flushParagraph();
      items.push(item[1] as string);
      continue;
    }
    if (items.length > 0 && /^ {2}\S/.test(line)) {
      items[items.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (line.trim() === '') {
      flushParagraph();
      flushItems();
      continue;
    }
    flushItems();
    paragraph.push(line.trim());
  }
  flushParagraph();
  flushItems();
  return out.join('\n');
}

/** `\ref` list of the normative sections of one target, for conformance.tex. */
export function conformanceList(labels: readonly string[]): string {
  return ['\\begin{itemize}', ...labels.map((l) => `\\item \\ref{${l}}`), '\\end{itemize}', ''].join('\n');
}

/** The standalone preamble: virtio-spec's macros, defined here, around the rendition. */
export function standalone(appendices: readonly string[]): string {
  return [
    '% Standalone build of the XDP offload rendition. Defines the macros of virtio-spec that the',
    '% section uses (\\devicenormative, \\drivernormative, \\conformance, \\field) so that the same',
    '% files build here and inside the virtio-spec tree. Generated; do not edit.',
    '\\documentclass[10pt,a4paper]{article}',
    '\\usepackage[T1]{fontenc}',
    '\\usepackage{lmodern}',
    '\\usepackage[margin=2cm]{geometry}',
    '\\usepackage{longtable}',
    '\\usepackage{listings}',
    '\\lstset{basicstyle=\\ttfamily\\small,columns=fullflexible,keepspaces=true}',
    '\\newcommand{\\field}[1]{\\emph{#1}}',
    '\\newcommand{\\reqid}[1]{\\textsf{[#1]}}',
    '\\newcommand{\\devicenormative}[3]{#1{Device Requirements: #2}\\label{devicenormative:#3}}',
    '\\newcommand{\\drivernormative}[3]{#1{Driver Requirements: #2}\\label{drivernormative:#3}}',
    '\\newcommand{\\conformance}[2]{#1{#2}}',
    '\\setcounter{secnumdepth}{3}',
    '\\sloppy',
    '\\title{XDP Offload for virtio-net: a rendition in virtio-spec conventions}',
    '\\date{}',
    '\\begin{document}',
    '\\maketitle',
    '\\tableofcontents',
    '\\input{xdp-offload}',
    '\\section{Conformance}',
    '\\input{conformance-xdp-offload}',
    '\\appendix',
    ...appendices.map((a) => `\\input{${a}}`),
    '\\end{document}',
    '',
  ].join('\n');
}

/** Every generated LaTeX file: path → content, from the filled Markdown of the spec's documents. */
export function renderLatex(filled: ReadonlyMap<string, string>): Map<string, string> {
  const normative: NormativeSections = { dev: [], drv: [] };
  const body = (path: string) => {
    const text = filled.get(path);
    if (text === undefined) throw new Error(`no ${path}`);
    return text;
  };
  const out = new Map<string, string>();
  const main = renderDocument(body('spec/xdp-offload.md'), normative);
  out.set(
    LATEX_SECTION_PATH,
    `% Generated from spec/xdp-offload.md; do not edit.\n\\section{XDP Offload}\\label{sec:${LABEL_BASE}}\n\n${main}`,
  );
  const appendices: [string, string][] = [
    ['appendix-a-rfc-departures', 'spec/appendix-a-rfc-departures.md'],
    ['appendix-b-questions', 'spec/appendix-b-questions.md'],
  ];
  for (const [name, path] of appendices) {
    const title = /^# (.+)$/m.exec(body(path))?.[1] ?? name;
    const rendered = renderDocument(body(path), { dev: [], drv: [] });
    out.set(
      `spec/latex/${name}.tex`,
      `% Generated from ${path}; do not edit.\n\\section{${escapeText(title)}}\n\n${rendered}`,
    );
  }
  out.set('spec/latex/conformance-list-dev.tex', conformanceList(normative.dev));
  out.set('spec/latex/conformance-list-drv.tex', conformanceList(normative.drv));
  out.set(
    LATEX_CONFORMANCE_PATH,
    [
      '% Generated: entries for virtio-spec conformance.tex; do not edit.',
      '\\conformance{\\subsection}{XDP Offload Driver Conformance}\\label{sec:Conformance / Driver Conformance / XDP Offload Driver Conformance}',
      'A driver that negotiates VIRTIO\\_NET\\_F\\_XDP\\_OFFLOAD MUST conform to the following normative statements:',
      conformanceList(normative.drv),
      '\\conformance{\\subsection}{XDP Offload Device Conformance}\\label{sec:Conformance / Device Conformance / XDP Offload Device Conformance}',
      'A device that offers VIRTIO\\_NET\\_F\\_XDP\\_OFFLOAD MUST conform to the following normative statements:',
      conformanceList(normative.dev),
    ].join('\n'),
  );
  out.set(LATEX_STANDALONE_PATH, standalone(appendices.map(([name]) => name)));
  return out;
}
