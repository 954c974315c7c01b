/**
 * A text/template engine with Go's semantics, for docker's `--format`: `parseTemplate` checks
 * the text and its functions once (Go's parse errors), `execute` runs it over JSON-like data
 * (Go's execution errors). See values.ts for how JSON data stand for Go's typed values.
 */
import { type ExecOptions, execute as run } from './exec.ts';
import { isFunction } from './funcs.ts';
import { parse, type Tree } from './parse.ts';

export { type ExecOptions, TemplateExecError } from './exec.ts';
export { TemplateParseError } from './parse.ts';
export { asStruct, formatValue, isTypedNil, marshalsEscaped, toJson, typedNil } from './values.ts';

export interface Template {
  /** Runs the template over `data`; throws TemplateExecError with Go's message. */
  execute(data: unknown, opts?: ExecOptions): string;
}

/** Parses `text` as Go's template.New(name).Parse would; throws TemplateParseError. */
export function parseTemplate(text: string, name = ''): Template {
  const tree: Tree = parse(name, text, isFunction);
  return { execute: (data, opts) => run(tree, data, opts) };
}
