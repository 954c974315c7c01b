/**
 * `berth image explain`: why an image is as big as it is, per layer, from its tar streams.
 * `explainImage` gives the report (its schema is `explainReportSchema`); the renderers draw
 * it for a terminal and as one HTML page.
 */
export { explainImage, type ExplainOptions, type Explained } from './explain.ts';
export { EXPLAIN_SCHEMA_VERSION, explainReportSchema, type ExplainReport, type TreeNode } from './report.ts';
export { renderText, printable, type TextOptions } from './render-text.ts';
export { renderHtml, LAYER_COLORS } from './render-html.ts';
export { CACHE_KINDS } from './caches.ts';
