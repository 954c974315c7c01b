/**
 * The report of `berth image explain`, as plain data: what `--format json` prints, and what
 * the terminal and HTML views are drawn from. The zod schema is its published contract
 * (docs/image-explain.md): fields are added, never renamed or retyped, within one
 * `schemaVersion`. Layer numbers are indexes into `layers`, bottom (base) first.
 */
import { z } from 'zod';

export const EXPLAIN_SCHEMA_VERSION = 1;

const sized = { path: z.string(), size: z.number().int().nonnegative() };

/** Where in a Dockerfile a layer came from: `file:line` (lines are 1-based). */
const sourceLine = z.object({ file: z.string(), line: z.number().int().positive(), endLine: z.number().int().positive() }).strict();

const layer = z
  .object({
    index: z.number().int().nonnegative(),
    diffId: z.string(),
    /** The history entry's `created_by`: the instruction that made the layer. */
    instruction: z.string(),
    /** The Dockerfile line that made it, when the Dockerfile is known. */
    source: sourceLine.nullable(),
    /** Bytes of file content in the layer's tar (what it adds, whether or not it survives). */
    size: z.number().int().nonnegative(),
    files: z.number().int().nonnegative(),
    /** Of `size`, the bytes still visible in the final image's tree. */
    finalSize: z.number().int().nonnegative(),
    biggestFiles: z.array(z.object(sized).strict()),
    /** Directories by the bytes this layer put under them. */
    biggestDirs: z.array(z.object(sized).strict()),
  })
  .strict();

const wasted = z
  .object({
    kind: z.enum(['deleted', 'overwritten']),
    /** A file, or a directory whose whole content went at once. */
    path: z.string(),
    size: z.number().int().nonnegative(),
    files: z.number().int().positive(),
    addedIn: z.number().int().nonnegative(),
    removedIn: z.number().int().nonnegative(),
  })
  .strict();

const duplicate = z
  .object({
    digest: z.string(),
    size: z.number().int().nonnegative(),
    /** Bytes that one copy would save: size × (copies − 1). */
    wasted: z.number().int().nonnegative(),
    copies: z.array(z.object({ path: z.string(), layer: z.number().int().nonnegative() }).strict()),
  })
  .strict();

const cacheLeft = z
  .object({
    kind: z.string(),
    label: z.string(),
    path: z.string(),
    size: z.number().int().nonnegative(),
    files: z.number().int().positive(),
    layer: z.number().int().nonnegative(),
    fix: z.string(),
    /** The berth lint rule that finds the Dockerfile habit behind it, if one does. */
    lintRule: z.object({ id: z.string(), name: z.string() }).strict().nullable(),
  })
  .strict();

export const explainReportSchema = z
  .object({
    schemaVersion: z.literal(EXPLAIN_SCHEMA_VERSION),
    image: z.object({ id: z.string(), names: z.array(z.string()), os: z.string(), architecture: z.string() }).strict(),
    dockerfile: z.string().nullable(),
    /** Bytes of file content in the final tree, and its file count. */
    totalSize: z.number().int().nonnegative(),
    totalFiles: z.number().int().nonnegative(),
    /** Bytes in the layers that the final tree does not show (deleted + overwritten). */
    wastedSize: z.number().int().nonnegative(),
    layers: z.array(layer),
    wasted: z.array(wasted),
    duplicates: z.array(duplicate),
    /** True when some same-size files were not hashed (too many, or too many bytes). */
    duplicatesTruncated: z.boolean(),
    caches: z.array(cacheLeft),
  })
  .strict();

export type ExplainReport = z.infer<typeof explainReportSchema>;
export type LayerReport = z.infer<typeof layer>;
export type WastedBytes = z.infer<typeof wasted>;
export type DuplicateGroup = z.infer<typeof duplicate>;
export type CacheLeft = z.infer<typeof cacheLeft>;
export type SourceLine = z.infer<typeof sourceLine>;

/** A node of the final tree, for the treemap: small entries are folded into `(N more)`. */
export interface TreeNode {
  readonly name: string;
  readonly size: number;
  /** The layer that wrote this file; for a folded group or a dir, the layer with most of its bytes. */
  readonly layer: number;
  readonly children?: readonly TreeNode[];
}
