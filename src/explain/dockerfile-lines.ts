/**
 * Which Dockerfile line made each layer. An image keeps only its history's `created_by`
 * texts, so they are matched against the Dockerfile's instructions: walking both from the
 * top of the image down, each history entry takes the nearest earlier instruction whose
 * command it contains. Entries of the base image find none and get no line.
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
