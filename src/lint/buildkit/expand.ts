/**
 * Word expansion that records which variables a word looked up, found or not: what BuildKit's
 * variable checks (UndefinedVar, UndefinedArgInFrom, RedundantTargetPlatform) are built on.
 */
import { processWord } from '../../dockerfile/index.ts';
import { hostPlatform } from '../../oci/index.ts';
import { predefinedArgs } from '../../dockerfile/index.ts';
import type { Dockerfile } from '../../dockerfile/index.ts';

class RecordingEnv extends Map<string, string> {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  override get(name: string): string | undefined {
    const v = super.get(name);
    (v === undefined ? this.unmatched : this.matched).add(name);
    return v;
  }
}

export interface Expansion {
  /** The expanded word, or undefined when the word does not parse. */
  readonly result: string | undefined;
  readonly matched: ReadonlySet<string>;
  readonly unmatched: ReadonlySet<string>;
}

export function expandRecording(word: string, env: ReadonlyMap<string, string>, escapeChar = '\\'): Expansion {
  const rec = new RecordingEnv(env);
  let result: string | undefined;
  try {
    result = processWord(word, rec, escapeChar);
  } catch {
    result = undefined; // a bad word is the build's error, not a check's
  }
  return { result, matched: rec.matched, unmatched: rec.unmatched };
}

/**
 * The ARGs a FROM line may use: BuildKit's predefined platform ARGs and every global ARG
 * (`values` holds those with a default, expanded in order, as a build with no --build-arg sees them).
 */
export function globalScope(df: Dockerfile): { declared: Set<string>; values: Map<string, string> } {
  const host = hostPlatform();
  const values = new Map(predefinedArgs(host, host));
  const declared = new Set(values.keys());
  for (const inst of df.globalArgs) {
    for (const a of inst.args) {
      declared.add(a.name);
      if (a.value !== undefined) {
        const v = expandRecording(a.value, values, df.parsed.escape).result;
        if (v !== undefined) values.set(a.name, v);
      }
    }
  }
  return { declared, values };
}
