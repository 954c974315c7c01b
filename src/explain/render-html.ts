/**
 * `image explain --html FILE`: one self-contained page (inline CSS, SVG and a few lines of
 * script; nothing fetched) with a treemap of the final tree coloured by layer, and the
 * report's tables. Every text from the image goes through `html()`: a path named
 * `<script>` is shown, never run.
 */
import { humanSize } from '../progress/units.ts';
import { instructionText, printable } from './render-text.ts';
import type { ExplainReport, SourceLine, TreeNode } from './report.ts';
import { layoutTreemap } from './treemap.ts';

/** One colour per layer in turn (Tableau 10); tests look for these exact pixels. */
export const LAYER_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#edc948', '#76b7b2', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

const MAP_W = 1200;
const MAP_H = 640;

export function layerColor(layer: number): string {
  return LAYER_COLORS[layer % LAYER_COLORS.length]!;
}

/** Text from the image made safe for HTML content and attribute values. */
export function html(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const px = (n: number) => Math.round(n * 10) / 10;

function treemapSvg(tree: TreeNode): string {
  const boxes = layoutTreemap(tree, MAP_W, MAP_H);
  const rects = boxes
    .filter((b) => b.w >= 0.5 && b.h >= 0.5)
    .map((b) => {
      const title = `<title>${html(b.path)} ${humanSize(b.size)} (layer #${b.layer})</title>`;
      return b.dir
        ? `<rect class="dir" x="${px(b.x)}" y="${px(b.y)}" width="${px(b.w)}" height="${px(b.h)}">${title}</rect>`
        : `<rect class="f L${b.layer}" data-layer="${b.layer}" x="${px(b.x)}" y="${px(b.y)}" width="${px(b.w)}" height="${px(b.h)}" fill="${layerColor(b.layer)}">${title}</rect>`;
    });
  // Names on the boxes with room for them; the title (hover) names every box.
  const labels = boxes
    .filter((b) => !b.dir && b.w >= 70 && b.h >= 16)
    .map((b) => {
      const label = `${b.name} ${humanSize(b.size)}`;
      return `<text x="${px(b.x + 4)}" y="${px(b.y + 13)}">${html(label.length * 7 > b.w ? `${label.slice(0, Math.max(1, Math.floor(b.w / 7) - 1))}…` : label)}</text>`;
    });
  return `<svg id="treemap" xmlns="http://www.w3.org/2000/svg" width="${MAP_W}" height="${MAP_H}" viewBox="0 0 ${MAP_W} ${MAP_H}">${rects.join('')}<g class="names">${labels.join('')}</g></svg>`;
}

function where(src: SourceLine | null): string {
  return src ? html(`${src.file}:${src.line}`) : '';
}

function table(head: readonly string[], rows: readonly string[][]): string {
  if (!rows.length) return '<p class="none">none</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:20px 0 6px}
#treemap{display:block;background:#fff}
#treemap rect.dir{fill:none;stroke:#333;stroke-width:0.6}
#treemap rect.f{stroke:#fff;stroke-width:0.4}
#treemap text{font:11px ui-monospace,monospace;fill:#111;pointer-events:none}
#treemap.focus text{display:none}
#treemap.focus rect.f{opacity:.15} #treemap.focus rect.f.on{opacity:1}
.legend span{display:inline-block;margin:2px 10px 2px 0;cursor:pointer}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;margin:4px 0} td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap} code{font:12px ui-monospace,monospace;word-break:break-all}
.none{color:#777}`;

/** Clicking a layer in the legend shows only that layer's boxes; clicking it again, all. */
const SCRIPT = `
document.querySelectorAll('.legend span').forEach(function (s) {
  s.addEventListener('click', function () {
    var map = document.getElementById('treemap'), layer = s.getAttribute('data-layer');
    var on = map.getAttribute('data-focus') !== layer;
    map.setAttribute('data-focus', on ? layer : '');
    map.classList.toggle('focus', on);
    map.querySelectorAll('rect.f').forEach(function (r) { r.classList.toggle('on', r.getAttribute('data-layer') === layer); });
  });
});`;

export function renderHtml(r: ExplainReport, tree: TreeNode): string {
  const name = r.image.names[0] ?? r.image.id;
  const code = (s: string) => `<code>${html(s)}</code>`;
  const legend = r.layers
    .map(
      (l) =>
        `<span data-layer="${l.index}"><i style="background:${layerColor(l.index)}"></i>#${l.index} ${html(instructionText(l.instruction).slice(0, 60))}</span>`,
    )
    .join('');
  const layerRows = r.layers.map((l) => [
    `<i style="display:inline-block;width:10px;height:10px;background:${layerColor(l.index)}"></i> #${l.index}`,
    humanSize(l.size),
    humanSize(l.finalSize),
    String(l.files),
    where(l.source),
    code(instructionText(l.instruction)),
    l.biggestFiles
      .slice(0, 5)
      .map((f) => `${code(f.path)} ${humanSize(f.size)}`)
      .join('<br>'),
  ]);
  const at = (i: number) => `#${i}${r.layers[i]?.source ? ` (${where(r.layers[i]!.source)})` : ''}`;
  const wasteRows = r.wasted.map((w) => [humanSize(w.size), w.kind, code(w.path), String(w.files), at(w.addedIn), at(w.removedIn)]);
  const dupRows = r.duplicates.map((d) => [
    humanSize(d.size),
    String(d.copies.length),
    d.copies.map((c) => `${code(c.path)} ${at(c.layer)}`).join('<br>'),
    code(d.digest.slice(0, 19)),
  ]);
  const cacheRows = r.caches.map((c) => [
    humanSize(c.size),
    html(c.label),
    code(c.path),
    at(c.layer),
    code(c.fix),
    c.lintRule ? html(`${c.lintRule.id} ${c.lintRule.name}`) : '',
  ]);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>berth image explain: ${html(name)}</title><style>${CSS}</style></head><body>
<h1>${html(name)}</h1>
<p>${html(r.image.id)} · ${html(r.image.os)}/${html(r.image.architecture)} · ${humanSize(r.totalSize)} in ${r.totalFiles} files · ${r.layers.length} layers · ${humanSize(r.wastedSize)} deleted or overwritten by later layers</p>
<h2>The final tree, by layer</h2>
<div class="legend">${legend}</div>
${treemapSvg(tree)}
<h2>Layers</h2>
${table(['layer', 'size', 'still visible', 'files', 'Dockerfile', 'instruction', 'biggest files'], layerRows)}
<h2>Wasted: deleted or overwritten by a later layer</h2>
${table(['size', 'how', 'path', 'files', 'added by', 'removed by'], wasteRows)}
<h2>Duplicates across layers</h2>
${table(['size', 'copies', 'where', 'digest'], dupRows)}${r.duplicatesTruncated ? '<p class="none">only the largest same-size files were compared</p>' : ''}
<h2>Caches left in</h2>
${table(['size', 'cache', 'path', 'written by', 'fix', 'berth lint'], cacheRows)}
<script>${SCRIPT}</script>
</body></html>
`;
}
