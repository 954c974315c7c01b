/**
 * The Dockerfile AST, shaped like BuildKit's parser nodes so its dump format and tests
 * carry over: one `Node` per instruction with its flags, its arguments (`next`), the
 * heredocs that follow it, and its source lines (1-based, inclusive).
 */

export interface Heredoc {
  readonly name: string;
  readonly content: string;
  /** `<<-`: leading tabs are stripped from the content and the terminator. */
  readonly chomp: boolean;
  /** Unquoted delimiter: the content is subject to expansion. */
  readonly expand: boolean;
  readonly fileDescriptor: number;
}

export interface Node {
  /** Lowercase instruction keyword (`run`), or an argument's value. */
  readonly value: string;
  /** The logical line as written, continuations joined. */
  readonly original: string;
  readonly flags: readonly string[];
  /** Arguments in order; a key/value instruction has key, value, separator triples. */
  readonly next: readonly Arg[];
  /** ONBUILD's wrapped instruction. */
  readonly child?: Node;
  readonly heredocs: readonly Heredoc[];
  /** Exec (JSON) form. */
  readonly json: boolean;
  readonly startLine: number;
  readonly endLine: number;
  /** Comments directly above the instruction (for lint's inline ignores). */
  readonly comments: readonly string[];
}

export type Arg = string;

export interface Directive {
  readonly name: 'syntax' | 'escape' | 'check';
  readonly value: string;
  readonly line: number;
}

export interface ParseResult {
  readonly file: string;
  readonly directives: readonly Directive[];
  readonly escape: '\\' | '`';
  readonly children: readonly Node[];
  /** The source split into lines, for error carets and lint positions. */
  readonly lines: readonly string[];
  readonly warnings: readonly ParseWarning[];
}

export interface ParseWarning {
  readonly message: string;
  readonly line: number;
}
