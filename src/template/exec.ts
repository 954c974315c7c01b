/**
 * Go's text/template executor (text/template/exec.go) over JSON-like data (see values.ts):
 * the walk over the tree, variables, pipelines, field chains, function and method calls, and
 * Go's execution errors, `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
 */
import { CallError, checkParam, goParam, lookupFunction, type ParamType } from './funcs.ts';
import { type CommandNode, type ControlNode, goQuote, type Node, nodeString, type PipeNode, type Tree } from './parse.ts';
import { formatValue, GoFloat, goTypeName, isTrue, kindOf, structType } from './values.ts';

export class TemplateExecError extends Error {}

/** "no argument": distinct from `undefined`, which is Go's invalid value (a missing key). */
const NONE = Symbol('none');
type Final = unknown;

/**
 * How deep `{{template}}` may call itself. Go allows 100000; a JS stack holds fewer frames, so
 * berth stops sooner, with Go's words, rather than overflow.
 */
const MAX_TEMPLATE_DEPTH = 1000;

class BreakSignal {}
class ContinueSignal {}

export interface ExecOptions {
  /**
   * Numbers are named `json.Number` in type errors, as docker's inspect words them: its
   * fallback run over the raw JSON decodes numbers so.
   */
  readonly jsonNumbers?: boolean;
}

export function execute(tree: Tree, data: unknown, opts: ExecOptions = {}): string {
  return new State(tree, data, opts).run();
}

class State {
  private out = '';
  private vars: Array<{ name: string; value: unknown }>;
  private node: Node | undefined;
  private depth = 0;

  constructor(
    private readonly tree: Tree,
    data: unknown,
    private readonly opts: ExecOptions,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  run(): string {
    this.walk(this.vars[0]!.value, this.tree.root);
    return this.out;
  }

  private at(n: Node): void {
    this.node = n;
  }

  private errorf(message: string): never {
    const name = this.tree.name;
    if (!this.node) throw new TemplateExecError(`template: ${name}: ${message}`);
    const before = this.tree.text.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const col = nl === -1 ? this.node.pos : this.node.pos - (nl + 1);
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    throw new TemplateExecError(`template: ${name}:${line}:${col}: executing ${goQuote(name)} at <${nodeString(this.node)}>: ${message}`);
  }

  private walk(dot: unknown, node: Node): void {
    this.at(node);
    switch (node.kind) {
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.print(node, v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, node.pipe);
        if (isTrue(v)) this.walk(node.kind === 'with' ? v : dot, node.list);
        else if (node.elseList) this.walk(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template': {
        const body = this.tree.defs.get(node.name);
        if (!body) this.errorf(`template ${goQuote(node.name)} not defined`);
        const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : null;
        if (this.depth >= MAX_TEMPLATE_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
        const saved = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        this.depth++;
        try {
          this.walk(newDot, body);
        } finally {
          this.vars = saved;
          this.depth--;
        }
        return;
      }
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkRange(dot: unknown, r: ControlNode): void {
    const outer = this.vars.length;
    const val = this.evalPipeline(dot, r.pipe);
    const mark = this.vars.length;
    const decl = r.pipe.decl.length;
    const one = (index: unknown, elem: unknown): boolean => {
      if (decl > 0) {
        if (r.pipe.isAssign) this.setVar(r.pipe.decl[decl - 1]!.name, elem);
        else this.vars[this.vars.length - 1]!.value = elem;
      }
      if (decl > 1) {
        if (r.pipe.isAssign) this.setVar(r.pipe.decl[0]!.name, index);
        else this.vars[this.vars.length - 2]!.value = index;
      }
      try {
        this.walk(elem, r.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.vars.length = mark;
      }
      return true;
    };
    let ran = false;
    switch (kindOf(val)) {
      case 'slice':
        for (const [i, e] of (val as unknown[]).entries()) {
          ran = true;
          if (!one(i, e ?? null)) break;
        }
        break;
      case 'map':
        for (const k of Object.keys(val as object).sort()) {
          ran = true;
          if (!one(k, (val as Record<string, unknown>)[k] ?? null)) break;
        }
        break;
      case 'int':
        if (decl > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        for (let i = 0; i < (val as number); i++) {
          ran = true;
          if (!one(i, i)) break;
        }
        break;
      case 'invalid':
      case 'nil':
        break;
      default:
        this.errorf(`range can't iterate over ${formatValue(val)}`);
    }
    if (!ran && r.elseList) this.walk(dot, r.elseList);
    this.vars.length = outer;
  }

  private print(node: Node, v: unknown): void {
    this.at(node);
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type func`);
    this.out += formatValue(v);
  }

  private typeName(v: unknown): string {
    const k = kindOf(v);
    return this.opts.jsonNumbers && (k === 'int' || k === 'float') ? 'json.Number' : goTypeName(v);
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.name, value);
      else this.vars.push({ name: d.name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final);
      case 'chain': {
        this.at(first);
        if (first.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
        if (first.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(first)}`);
        const pipe = this.evalArg(dot, 'any', first.node);
        return this.evalFieldChain(dot, pipe, first, first.field, cmd.args, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first, cmd, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable': {
        this.at(first);
        const v = this.varValue(first.ident[0]!);
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final);
          return v;
        }
        return this.evalFieldChain(dot, v, first, first.ident.slice(1), cmd.args, final);
      }
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return first.isFloat ? new GoFloat(first.value) : first.value;
      case 'string':
        return first.text;
    }
    this.errorf(`can't evaluate command ${goQuote(nodeString(first))}`);
  }

  private notAFunction(args: Node[], final: Final): void {
    if (args.length > 1 || final !== NONE) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Node, ident: string[], args: Node[], final: Final): unknown {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(dot, ident[i]!, node, [], NONE, r);
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r);
  }

  private evalField(dot: unknown, name: string, node: Node, args: Node[], final: Final, receiver: unknown): unknown {
    if (receiver === undefined) return undefined;
    const hasArgs = args.length > 1 || final !== NONE;
    const kind = kindOf(receiver);
    if (kind === 'nil') this.errorf(`nil pointer evaluating interface {}.${name}`);
    if (kind === 'map' || kind === 'struct') {
      const obj = receiver as Record<string, unknown>;
      const present = Object.hasOwn(obj, name);
      const value = present ? obj[name] : undefined;
      if (typeof value === 'function') return this.callMethod(dot, name, value as (...a: unknown[]) => unknown, node, args, final);
      if (kind === 'struct') {
        if (!present) {
          const type = structType(receiver)!;
          this.errorf(type ? `can't evaluate field ${name} in type ${type}` : `map has no entry for key ${goQuote(name)}`);
        }
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return value;
      }
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      // A map's nil element is a nil interface, which Go turns into "no value".
      return value === null ? undefined : value;
    }
    this.errorf(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
  }

  private callMethod(dot: unknown, name: string, method: (...a: unknown[]) => unknown, node: Node, args: Node[], final: Final): unknown {
    const params: ParamType[] = Array.from({ length: method.length }, () => 'any');
    return this.evalCall(dot, { params, call: (a) => method(...a) }, node, name, args, final);
  }

  private evalFunction(dot: unknown, id: Extract<Node, { kind: 'identifier' }>, cmd: CommandNode, final: Final): unknown {
    this.at(id);
    const name = id.ident;
    if (name === 'and' || name === 'or') return this.evalShortCircuit(dot, name, cmd, final);
    const f = lookupFunction(name);
    if (!f) this.errorf(`${goQuote(name)} is not a defined function`);
    return this.evalCall(dot, f, cmd, name, cmd.args, final);
  }

  /** `and`/`or` evaluate arguments one at a time and stop at the first that decides. */
  private evalShortCircuit(dot: unknown, name: 'and' | 'or', cmd: CommandNode, final: Final): unknown {
    const argNodes = cmd.args.slice(1);
    const total = argNodes.length + (final === NONE ? 0 : 1);
    if (total < 1) this.errorf(`wrong number of args for ${name}: want at least 1 got 0`);
    let v: unknown;
    for (let i = 0; i < total; i++) {
      v = i < argNodes.length ? this.evalArg(dot, 'any', argNodes[i]!) : final;
      if (v === undefined) v = null;
      if (isTrue(v) === (name === 'or')) return v === null ? undefined : v;
    }
    return v === null ? undefined : v;
  }

  private evalCall(
    dot: unknown,
    f: { params: readonly ParamType[]; variadic?: boolean; call: (a: unknown[]) => unknown },
    node: Node,
    name: string,
    args: Node[],
    final: Final,
  ): unknown {
    const argNodes = args.slice(1);
    const numIn = argNodes.length + (final === NONE ? 0 : 1);
    const fixed = f.variadic ? f.params.length - 1 : f.params.length;
    if (f.variadic ? numIn < fixed : numIn !== fixed) {
      this.errorf(`wrong number of args for ${name}: want ${f.variadic ? 'at least ' : ''}${fixed} got ${numIn}`);
    }
    const paramAt = (i: number) => f.params[Math.min(i, f.params.length - 1)]!;
    const values = argNodes.map((a, i) => this.evalArg(dot, paramAt(i), a));
    if (final !== NONE) values.push(this.validate(paramAt(values.length), final));
    try {
      // A function's nil interface result is "no value", as Go's evalPipeline unwraps it.
      const result = f.call(values);
      return result === null ? undefined : result;
    } catch (e) {
      if (!(e instanceof CallError)) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e.message}`);
    }
  }

  private evalArg(dot: unknown, type: ParamType, n: Node): unknown {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validate(type, dot);
      case 'nil':
        if (type === 'any') return null;
        return this.errorf(`cannot assign nil to ${goParam(type)}`);
      case 'field':
        return this.validate(type, this.evalFieldChain(dot, dot, n, n.ident, [n], NONE));
      case 'variable': {
        const v = this.varValue(n.ident[0]!);
        return this.validate(type, n.ident.length === 1 ? v : this.evalFieldChain(dot, v, n, n.ident.slice(1), [n], NONE));
      }
      case 'pipe':
        return this.validate(type, this.evalPipeline(dot, n));
      case 'identifier':
        return this.validate(type, this.evalFunction(dot, n, { kind: 'command', pos: n.pos, args: [n] }, NONE));
      case 'chain':
        return this.validate(type, this.evalCommand(dot, { kind: 'command', pos: n.pos, args: [n] }, NONE));
      case 'bool':
        if (type === 'any') return n.value;
        if (type === 'string') this.errorf(`expected string; found ${nodeString(n)}`);
        if (type === 'int') this.errorf(`expected integer; found ${nodeString(n)}`);
        break;
      case 'string':
        if (type === 'any' || type === 'string') return n.text;
        if (type === 'int') this.errorf(`expected integer; found ${nodeString(n)}`);
        break;
      case 'number':
        if (type === 'int' && n.isFloat) this.errorf(`expected integer; found ${n.text}`);
        if (type === 'any' || type === 'int') return n.isFloat ? new GoFloat(n.value) : n.value;
        if (type === 'string') this.errorf(`expected string; found ${n.text}`);
        break;
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${goParam(type)}`);
  }

  /** Go's validateType (funcs.ts), its error at the node being evaluated. */
  private validate(type: ParamType, v: unknown): unknown {
    const r = checkParam(type, v, (x) => this.typeName(x));
    if ('error' in r) this.errorf(r.error);
    return r.value;
  }
}
