/**
 * The Dockerfile front end: text → AST (parser.ts, BuildKit-compatible, dump.ts) → typed
 * instructions in stages (instructions.ts). Word expansion (shell.ts) and the
 * .dockerignore matcher (dockerignore.ts) live beside it. Nothing here executes anything.
 */
export type { Directive, Heredoc, Node, ParseResult, ParseWarning } from './ast.ts';
export { parseDockerfile } from './parser.ts';
export { dump, dumpNode, goQuote } from './dump.ts';
export { processWord, processWords, ShellError } from './shell.ts';
export { IgnoreMatcher, parseIgnoreFile, cleanPath } from './dockerignore.ts';
export { toDockerfile, toInstruction, suggestInstruction, type Dockerfile, type Instruction, type Stage } from './instructions.ts';

import { parseDockerfile } from './parser.ts';
import { toDockerfile, type Dockerfile } from './instructions.ts';

/** Parses and types a Dockerfile in one step. */
export function loadDockerfile(source: string, file = 'Dockerfile'): Dockerfile {
  return toDockerfile(parseDockerfile(source, file));
}
