/**
 * The tree of a parsed template, node for node as Go's text/template/parse has it, and each
 * node printed as Go prints it in errors (`executing "" at <index .Mounts 5>`).
 */

export type Node =
  | { kind: 'list'; pos: number; nodes: Node[] }
  | { kind: 'text'; pos: number; text: string }
  | { kind: 'action'; pos: number; pipe: PipeNode }
  | { kind: 'if' | 'with' | 'range'; pos: number; pipe: PipeNode; list: ListNode; elseList?: ListNode }
  | { kind: 'break' | 'continue'; pos: number }
  | { kind: 'template'; pos: number; name: string; pipe?: PipeNode }
  | PipeNode
  | { kind: 'command'; pos: number; args: Node[] }
  | { kind: 'field'; pos: number; ident: string[] }
  | { kind: 'variable'; pos: number; ident: string[] }
  | { kind: 'chain'; pos: number; node: Node; field: string[] }
  | { kind: 'identifier'; pos: number; ident: string }
  | { kind: 'dot' | 'nil'; pos: number }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'number'; pos: number; text: string; value: number; isFloat: boolean }
  | { kind: 'string'; pos: number; quoted: string; text: string }
  | { kind: 'end' | 'else'; pos: number };

export type ListNode = Extract<Node, { kind: 'list' }>;
export type CommandNode = Extract<Node, { kind: 'command' }>;
export type ControlNode = Extract<Node, { kind: 'if' | 'with' | 'range' }>;
export interface PipeNode {
  kind: 'pipe';
  pos: number;
  decl: Array<{ pos: number; name: string }>;
  isAssign: boolean;
  cmds: CommandNode[];
}

/** Go's %q of a string, for the messages that quote a name. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** A node as Go prints it in `executing "" at <...>` and in parse errors. */
export function nodeString(n: Node): string {
  switch (n.kind) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return goQuote(n.text);
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range':
      return `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? `{{else}}${nodeString(n.elseList)}` : ''}{{end}}`;
    case 'template':
      return `{{template ${goQuote(n.name)}${n.pipe ? ` ${nodeString(n.pipe)}` : ''}}}`;
    case 'break':
    case 'continue':
    case 'end':
    case 'else':
      return `{{${n.kind}}}`;
    case 'pipe': {
      const decl = n.decl.length ? `${n.decl.map((d) => d.name).join(', ')} ${n.isAssign ? '=' : ':='} ` : '';
      return decl + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return n.ident.map((f) => `.${f}`).join('');
    case 'variable':
      return n.ident.join('.');
    case 'chain':
      return `${n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)}${n.field.map((f) => `.${f}`).join('')}`;
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(n.value);
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
  }
}
