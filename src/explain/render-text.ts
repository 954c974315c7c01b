/**
 * The terminal view of an explain report: layers with size bars, then waste, duplicates
 * and caches. Colour only when the caller says so (a TTY, no NO_COLOR); every name from
 * the image is shown with its control characters escaped, so a path cannot move the cursor
 * or rewrite the screen.
 */
import { humanSize } from '../progress/units.ts';
import type { ExplainReport, SourceLine } from './report.ts';

export interface TextOptions {
  readonly color: boolean;
  /** Columns for the instruction text. */
  readonly width?: number;
}

const BAR = 24;
/** ANSI 256-colour codes, one per layer in turn (the same hues as the HTML palette). */
const ANSI = [33, 208, 35, 163, 178, 39, 124, 71, 99, 172];

/** Control characters (C0, DEL, C1) and bidi overrides as `\xNN` / `\u{...}`. */
export function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\\]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

function where(src: SourceLine | null): string {
  return src ? `${src.file}:${src.line}` : '';
}

/** `created_by` without BuildKit's marker and with its whitespace collapsed. */
export function instructionText(createdBy: string): string {
  return createdBy
    .replace(/\s+/g, ' ')
    .replace(/ # buildkit$/, '')
    .trim();
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`;
}

export function renderText(r: ExplainReport, opts: TextOptions): string {
  const paint = (layer: number, s: string) => (opts.color && s ? `\x1b[38;5;${ANSI[layer % ANSI.length]}m${s}\x1b[0m` : s);
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const width = Math.max(40, opts.width ?? 100);
  const out: string[] = [];
  const name = r.image.names[0] ?? r.image.id.slice(7, 19);
  const layerSum = r.layers.reduce((n, l) => n + l.size, 0);
  out.push(`${bold('Image')} ${printable(name)} (${r.image.id.slice(0, 19)}) ${r.image.os}/${r.image.architecture}`);
  out.push(
    `${humanSize(r.totalSize)} in ${r.totalFiles} files from ${r.layers.length} layers; the layers hold ${humanSize(layerSum)}, ` +
      `${humanSize(r.wastedSize)} of it deleted or overwritten by a later layer`,
  );
  out.push('');
  out.push(bold('Layers (base first)'));
  const biggest = Math.max(1, ...r.layers.map((l) => l.size));
  for (const l of r.layers) {
    const full = Math.round((l.size / biggest) * BAR);
    const kept = Math.min(full, Math.round((l.finalSize / biggest) * BAR));
    const bar = paint(l.index, '█'.repeat(kept)) + paint(l.index, '░'.repeat(full - kept)) + ' '.repeat(BAR - full);
    const src = where(l.source);
    const head = `${`#${l.index}`.padEnd(4)} ${bar} ${humanSize(l.size).padStart(7)}  ${src ? `${printable(src)}  ` : ''}`;
    out.push(head + printable(clip(instructionText(l.instruction), width - 40)));
    const files = l.biggestFiles.slice(0, 3);
    for (const f of files) out.push(`        ${humanSize(f.size).padStart(7)}  ${printable(f.path)}`);
    // A dir is worth its line only when its bytes are not mostly one file already shown.
    const dirs = l.biggestDirs.filter((d) => !files.some((f) => f.path.startsWith(`${d.path}/`) && f.size >= 0.9 * d.size));
    for (const d of dirs.slice(0, 3)) out.push(`        ${humanSize(d.size).padStart(7)}  ${printable(d.path)}/`);
  }
  const at = (i: number) => {
    const src = where(r.layers[i]?.source ?? null);
    return `#${i}${src ? ` (${printable(src)})` : ''}`;
  };
  if (r.wasted.length) {
    out.push('', bold(`Wasted: ${humanSize(r.wastedSize)} that later layers delete or overwrite`));
    for (const w of r.wasted.slice(0, 20)) {
      const files = w.files > 1 ? ` (${w.files} files)` : '';
      out.push(`  ${humanSize(w.size).padStart(7)}  ${printable(w.path)}${files}: added by ${at(w.addedIn)}, ${w.kind} by ${at(w.removedIn)}`);
    }
  }
  if (r.duplicates.length) {
    out.push('', bold(`Duplicates: ${humanSize(r.duplicates.reduce((n, d) => n + d.wasted, 0))} in files whose content another layer already has`));
    for (const d of r.duplicates.slice(0, 20)) {
      out.push(`  ${humanSize(d.size).padStart(7)} ×${d.copies.length}  ${d.copies.map((c) => `${printable(c.path)} (${at(c.layer)})`).join(', ')}`);
    }
  }
  if (r.duplicatesTruncated) out.push('  (only the largest same-size files were compared)');
  if (r.caches.length) {
    out.push('', bold('Caches left in the image'));
    for (const c of r.caches) {
      out.push(`  ${humanSize(c.size).padStart(7)}  ${c.label} ${printable(c.path)} (${c.files} file${c.files === 1 ? '' : 's'}), written by ${at(c.layer)}`);
      out.push(`           fix: ${c.fix}`);
      if (c.lintRule) out.push(`           berth lint: ${c.lintRule.id} ${c.lintRule.name}`);
    }
  }
  if (!r.wasted.length && !r.duplicates.length && !r.caches.length) out.push('', 'No waste found: nothing deleted, overwritten, duplicated or cached.');
  return `${out.join('\n')}\n`;
}
