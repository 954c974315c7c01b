/**
 * Go's text/template parser (text/template/parse): items in, a tree of nodes out, with Go's
 * parse errors word for word (`template: NAME:LINE: function "foo" not defined`). Functions
 * are checked here, as Go checks them, so an unknown one fails before any output.
 */
import { type Item, type ItemType, lex } from './lexer.ts';
import { type CommandNode, goQuote, type ListNode, type Node, nodeString, type PipeNode } from './nodes.ts';

export type { CommandNode, ControlNode, ListNode, Node, PipeNode } from './nodes.ts';
export { goQuote, nodeString } from './nodes.ts';
import { goNumber, goUnquote } from './literals.ts';

/** A parse error: the whole message is Go's, `template: :1: ...`. */
export class TemplateParseError extends Error {}

export interface Tree {
  readonly name: string;
  readonly text: string;
  readonly root: ListNode;
  /** Templates named by `{{define}}` and `{{block}}`, for `{{template "name"}}`. */
  readonly defs: ReadonlyMap<string, ListNode>;
}

export function parse(name: string, text: string, hasFunction: (name: string) => boolean): Tree {
  return new Parser(name, text, lex(text), hasFunction).parseTree();
}

/** How deeply control structures and parentheses may nest (Go: 10000; less here, for a JS stack). */
const MAX_PARSE_DEPTH = 1000;

class Parser {
  private i = 0;
  private line = 1;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  private depth = 0;
  private readonly defs = new Map<string, ListNode>();

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly items: Item[],
    private readonly hasFunction: (name: string) => boolean,
  ) {}

  parseTree(): Tree {
    const root: ListNode = { kind: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const mark = this.i;
        this.next();
        const word = this.nextNonSpace();
        if (word.type === 'keyword' && word.val === 'define') {
          this.define(this.expectName('define clause'));
          continue;
        }
        this.i = mark;
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    return { name: this.name, text: this.text, root, defs: this.defs };
  }

  private expectName(context: string): string {
    const item = this.nextNonSpace();
    if (item.type !== 'string' && item.type !== 'rawString') this.unexpected(item, context);
    return this.unquote(item.val);
  }

  /** The body of `{{define "name"}}` or `{{block "name" ...}}`, up to its `{{end}}`. */
  private define(name: string): void {
    this.expect('rightDelim', 'define clause');
    const varsBefore = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in define clause`);
    this.vars = varsBefore;
    this.defs.set(name, list);
  }

  private templateControl(kind: 'template' | 'block'): Node {
    const pos = this.peekNonSpace().pos;
    const name = this.expectName(`${kind} clause`);
    let pipe: PipeNode | undefined;
    if (this.peekNonSpace().type !== 'rightDelim') pipe = this.pipeline(`${kind} clause`, 'rightDelim');
    else this.nextNonSpace();
    if (kind === 'block') {
      const varsBefore = this.vars;
      this.vars = ['$'];
      const [list, end] = this.itemList();
      if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in block clause`);
      this.vars = varsBefore;
      this.defs.set(name, list);
    }
    return { kind: 'template', pos, name, pipe };
  }

  private next(): Item {
    const item = this.items[Math.min(this.i, this.items.length - 1)]!;
    this.i++;
    this.line = item.line;
    return item;
  }
  private peek(): Item {
    return this.items[Math.min(this.i, this.items.length - 1)]!;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private nextNonSpace(): Item {
    let item = this.next();
    while (item.type === 'space') item = this.next();
    return item;
  }
  private peekNonSpace(): Item {
    const item = this.nextNonSpace();
    this.backup();
    return item;
  }

  private errorf(message: string): never {
    throw new TemplateParseError(`template: ${this.name}:${this.line}: ${message}`);
  }
  private unexpected(item: Item, context: string): never {
    if (item.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== item.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (item.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.line = item.line;
      this.errorf(`${item.val}${extra}`);
    }
    this.errorf(`unexpected ${itemString(item)} in ${context}`);
  }
  private expect(type: ItemType, context: string): Item {
    const item = this.nextNonSpace();
    if (item.type !== type) this.unexpected(item, context);
    return item;
  }

  private itemList(): [ListNode, Node] {
    const list: ListNode = { kind: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node {
    const item = this.nextNonSpace();
    if (item.type === 'text') return { kind: 'text', pos: item.pos, text: item.val };
    if (item.type === 'leftDelim') {
      this.actionLine = item.line;
      try {
        return this.action();
      } finally {
        this.actionLine = 0;
      }
    }
    this.unexpected(item, 'input');
  }

  private action(): Node {
    const item = this.nextNonSpace();
    if (item.type === 'keyword') {
      switch (item.val) {
        case 'else':
          return this.elseControl();
        case 'end':
          return { kind: 'end', pos: this.expect('rightDelim', 'end').pos };
        case 'if':
        case 'with':
        case 'range':
          return this.control(item.val);
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.errorf(`{{${item.val}}} outside {{range}}`);
          this.expect('rightDelim', `{{${item.val}}}`);
          return { kind: item.val, pos: item.pos };
        case 'template':
        case 'block':
          return this.templateControl(item.val);
        default:
          this.unexpected(item, 'command');
      }
    }
    this.backup();
    const pos = this.peek().pos;
    return { kind: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.type === 'keyword' && (peek.val === 'if' || peek.val === 'with')) return { kind: 'else', pos: peek.pos };
    return { kind: 'else', pos: this.expect('rightDelim', 'else').pos };
  }

  private control(kind: 'if' | 'with' | 'range'): Node {
    const varsBefore = this.vars.length;
    if (++this.depth > MAX_PARSE_DEPTH) this.errorf('max expression depth exceeded');
    try {
      const pipe = this.pipeline(kind, 'rightDelim');
      if (kind === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      let elseList: ListNode | undefined;
      if (next.kind === 'else') {
        const peek = this.peek();
        if (peek.type === 'keyword' && ((kind === 'if' && peek.val === 'if') || (kind === 'with' && peek.val === 'with'))) {
          this.next();
          elseList = { kind: 'list', pos: next.pos, nodes: [this.control(kind)] };
        } else {
          const [els, end] = this.itemList();
          if (end.kind !== 'end') this.errorf(`expected end; found ${nodeString(end)}`);
          elseList = els;
        }
      }
      return { kind, pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = varsBefore;
      this.depth--;
    }
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const pipe: PipeNode = { kind: 'pipe', pos: this.peekNonSpace().pos, decl: [], isAssign: false, cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const mark = this.i;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.val });
        this.vars.push(v.val);
        break;
      }
      if (next.type === 'punct' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push({ pos: v.pos, name: v.val });
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: give the variable back.
      this.i = mark;
      break;
    }
    for (;;) {
      const item = this.nextNonSpace();
      if (item.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (item.type) {
        case 'bool':
        case 'char':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(item, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') this.errorf(`non executable command in pipeline stage ${i + 2}`);
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const item = this.next();
      if (item.type === 'space') continue;
      if (item.type === 'rightDelim' || item.type === 'rightParen') this.backup();
      else if (item.type !== 'pipe') this.unexpected(item, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Node | undefined {
    const node = this.term();
    if (!node || this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { kind: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      default:
        return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): Node | undefined {
    const item = this.nextNonSpace();
    switch (item.type) {
      case 'identifier':
        if (!this.hasFunction(item.val)) this.errorf(`function ${goQuote(item.val)} not defined`);
        return { kind: 'identifier', pos: item.pos, ident: item.val };
      case 'dot':
        return { kind: 'dot', pos: item.pos };
      case 'nil':
        return { kind: 'nil', pos: item.pos };
      case 'variable': {
        const ident = item.val.split('.');
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${goQuote(ident[0]!)}`);
        return { kind: 'variable', pos: item.pos, ident };
      }
      case 'field':
        return { kind: 'field', pos: item.pos, ident: [item.val.slice(1)] };
      case 'bool':
        return { kind: 'bool', pos: item.pos, value: item.val === 'true' };
      case 'number':
      case 'char':
        return this.number(item);
      case 'leftParen':
        if (++this.depth > MAX_PARSE_DEPTH) this.errorf('max expression depth exceeded');
        try {
          return this.pipeline('parenthesized pipeline', 'rightParen');
        } finally {
          this.depth--;
        }
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: item.pos, quoted: item.val, text: this.unquote(item.val) };
    }
    this.backup();
    return undefined;
  }

  private number(item: Item): Node {
    if (item.type === 'char') {
      const text = this.unquote(`"${item.val.slice(1, -1).replace(/"/g, '\\"')}"`);
      if ([...text].length !== 1) this.errorf(`malformed character constant: ${item.val}`);
      return { kind: 'number', pos: item.pos, text: item.val, value: text.codePointAt(0)!, isFloat: false };
    }
    const n = goNumber(item.val);
    if (!n) this.errorf(`illegal number syntax: ${goQuote(item.val)}`);
    return { kind: 'number', pos: item.pos, text: item.val, ...n };
  }

  private unquote(quoted: string): string {
    const text = goUnquote(quoted);
    if (text === undefined) this.errorf('invalid syntax');
    return text;
  }
}

function itemString(item: Item): string {
  if (item.type === 'eof') return 'EOF';
  if (item.type === 'error') return item.val;
  if (item.type === 'keyword' || item.type === 'nil') return `<${item.val}>`;
  if ([...item.val].length > 10) return `${goQuote([...item.val].slice(0, 10).join(''))}...`;
  return goQuote(item.val);
}
