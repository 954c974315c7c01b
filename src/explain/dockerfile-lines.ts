/**
 * Which Dockerfile line made each layer. An image berth built keeps the lines of each
 * history entry (store/images.ts's BuildSource). Otherwise the image has only its history's
 * `created_by` texts, so they are matched against a Dockerfile's instructions: walking both
 * from the top of the image down, each history entry takes the nearest earlier instruction
 * whose command it contains. Entries of the base image find none and get no line.
 */
import { loadDockerfile } from '../dockerfile/index.ts';
import type { SourceLine } from './report.ts';

interface Candidate {
  readonly keyword: string;
  readonly body: string;
  readonly line: number;
  readonly endLine: number;
}

function normalize(text: string): string {
  return text
    .replace(/\\\r?\n/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The instruction's words as its history entry spells them: no keyword, no `--flags`, exec form as words. */
function bodyOf(original: string, json: boolean): string {
  let rest = normalize(original).replace(/^\S+\s*/, '');
  while (/^--\S+/.test(rest)) rest = rest.replace(/^--\S+\s*/, '');
  if (json) {
    try {
      const words: unknown = JSON.parse(rest);
      if (Array.isArray(words)) return normalize(words.map(String).join(' '));
    } catch {
      // not valid JSON after all: matched as written
    }
  }
  return rest;
}

/**
 * For each history entry (bottom first, as the config lists them), the Dockerfile line that
 * made it, or null. `text` is the Dockerfile; `file` names it in the result.
 */
export function matchDockerfileLines(createdBy: readonly string[], text: string, file: string): Array<SourceLine | null> {
  const df = loadDockerfile(text, file);
  const candidates: Candidate[] = [];
  for (const stage of df.stages) {
    for (const inst of stage.instructions) {
      const body = bodyOf(inst.node.original, inst.node.json);
      if (body) candidates.push({ keyword: inst.node.value.toUpperCase(), body, line: inst.node.startLine, endLine: inst.node.endLine });
    }
  }
  const out: Array<SourceLine | null> = createdBy.map(() => null);
  let next = candidates.length - 1;
  for (let h = createdBy.length - 1; h >= 0 && next >= 0; h--) {
    const created = normalize(createdBy[h]!);
    for (let c = next; c >= 0; c--) {
      const cand = candidates[c]!;
      if (created.includes(cand.keyword) && created.includes(cand.body)) {
        out[h] = { file, line: cand.line, endLine: cand.endLine };
        next = c - 1;
        break;
      }
    }
  }
  return out;
}

/** The Dockerfile an image's lines come from: given by the user (text), or kept by the build that made it (lines too). */
export interface DockerfileSource {
  readonly file: string;
  readonly text?: string;
  readonly lines?: ReadonlyArray<readonly [number, number] | null>;
}

/** For each history entry, its lines: as the build kept them when they fit this history, else matched in the text. */
export function historyLines(createdBy: readonly string[], source: DockerfileSource): Array<SourceLine | null> {
  if (source.lines?.length === createdBy.length) return source.lines.map((l) => (l ? { file: source.file, line: l[0], endLine: l[1] } : null));
  if (source.text !== undefined) return matchDockerfileLines(createdBy, source.text, source.file);
  return createdBy.map(() => null);
}
