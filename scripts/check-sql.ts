// Fails when SQL appears outside src/store/, the one folder that knows the metadata is SQLite
// (npm run check:sql). dependency-cruiser sees imports, not strings, so this reads the sources with
// the TypeScript compiler and reports, as file:line,
//   - a string or template literal that is an SQL statement (SELECT … FROM, INSERT INTO, PRAGMA …),
//   - a call of a better-sqlite3 method (db.prepare, db.exec, db.pragma, db.transaction, stmt.run …),
//     found by the method's declaration, so `engine.db.prepare(sql)` counts wherever db came from.
// Comments are never read, so English prose that says "select" or "update" is not SQL.
// Usage: node --import tsx scripts/check-sql.ts [root, default src] (the allowed folder is ROOT/store).
import { readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** SQL statement shapes, keywords in capitals as SQL is written in this code base. */
const SQL_STATEMENTS: RegExp[] = [
  /\bSELECT\s[\s\S]*?\bFROM\s+["`[]?[A-Za-z_]/,
  /\b(INSERT|REPLACE)\s+(OR\s+(REPLACE|IGNORE|ABORT|FAIL|ROLLBACK)\s+)?INTO\s+["`[]?[A-Za-z_]/,
  /\bUPDATE\s+["`[]?[A-Za-z_]\w*["`\]]?\s+SET\s/,
  /\bDELETE\s+FROM\s+["`[]?[A-Za-z_]/,
  /\b(CREATE|DROP)\s+(TEMP\s+|TEMPORARY\s+|UNIQUE\s+|VIRTUAL\s+)?(TABLE|INDEX|VIEW|TRIGGER)\s/,
  /\bALTER\s+TABLE\s/,
  /\bPRAGMA\s+[a-z_]+/,
];
// A lone BEGIN or COMMIT is not matched: iptables-restore input has COMMIT lines too. A transaction
// outside store/ still shows as its better-sqlite3 call (db.exec, db.transaction).

/** better-sqlite3 methods that compile or run SQL; close() and the like are not SQL. */
const SQL_METHODS = new Set(['prepare', 'exec', 'pragma', 'transaction', 'run', 'get', 'all', 'iterate', 'function', 'aggregate', 'table', 'loadExtension']);

export interface SqlFinding {
  file: string;
  line: number;
  what: string;
}

export function looksLikeSql(text: string): boolean {
  return SQL_STATEMENTS.some((re) => re.test(text));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A literal's text, with each `${…}` of a template read as a placeholder. */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.head.text + node.templateSpans.map((s) => `?${s.literal.text}`).join('');
  return undefined;
}

function isBetterSqlite3(symbol: ts.Symbol | undefined, checker: ts.TypeChecker): boolean {
  const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  return (target?.declarations ?? []).some((d) => /[\\/]node_modules[\\/](@types[\\/])?better-sqlite3[\\/]/.test(d.getSourceFile().fileName));
}

/** Every SQL statement and better-sqlite3 call in the .ts files under root, outside root/store. */
export function findSql(root: string): SqlFinding[] {
  const rootDir = resolve(root);
  const allowed = join(rootDir, 'store') + sep;
  const files = tsFiles(rootDir).filter((f) => !f.startsWith(allowed));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    esModuleInterop: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const findings: SqlFinding[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) continue;
    const report = (node: ts.Node, what: string) =>
      findings.push({ file: relative(process.cwd(), file), line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, what });
    const visit = (node: ts.Node): void => {
      const text = literalText(node);
      if (text !== undefined) {
        if (looksLikeSql(text)) report(node, `SQL text ${JSON.stringify(text.length > 70 ? `${text.slice(0, 70)}…` : text)}`);
        if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return;
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const name = node.expression.name;
        if (SQL_METHODS.has(name.text) && isBetterSqlite3(checker.getSymbolAtLocation(name), checker)) report(name, `better-sqlite3 call .${name.text}()`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  // One line per place: `db.prepare('SELECT …').get()` is one use, not three.
  const byPlace = new Map<string, SqlFinding>();
  for (const f of findings) {
    const key = `${f.file}:${f.line}`;
    const seen = byPlace.get(key);
    if (!seen) byPlace.set(key, { ...f });
    else if (!seen.what.includes(f.what)) seen.what = [seen.what, f.what].sort().join('; ');
  }
  return [...byPlace.values()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? 'src';
  const findings = findSql(root);
  for (const f of findings) console.log(`${f.file}:${f.line}: ${f.what}`);
  if (findings.length) {
    console.error(`check-sql: ${findings.length} SQL use(s) outside ${join(root, 'store')}/; SQL belongs in a typed repository there.`);
    process.exit(1);
  }
  console.log(`check-sql: no SQL outside ${join(root, 'store')}/`);
}
