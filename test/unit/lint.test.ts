/** Lint rules as tables (a positive and a negative case each), the seed example, the ML corpus, SARIF. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { loadDockerfile } from '../../src/dockerfile/index.ts';
import { lint, RULES, toSarif } from '../../src/lint/index.ts';
import { BERTH_RULES } from '../../src/lint/rules/index.ts';
import { renderLintDocs } from '../../src/lint/docs.ts';
import type { LintInput } from '../../src/lint/types.ts';
import { CORPUS_ABSENT, corpusDir } from '../helpers/corpus.ts';

const require = createRequire(import.meta.url);

async function ids(src: string, context?: LintInput['context']): Promise<string[]> {
  return (await lint({ file: 'Dockerfile', dockerfile: loadDockerfile(src), context })).map((f) => f.ruleId);
}

const ctx = (ignored: string[], size = 0, hasDockerignore = true): LintInput['context'] => ({
  dir: '/x',
  hasDockerignore,
  isIgnored: (p) => ignored.includes(p),
  sizeBytes: async () => size,
});

// [rule, fires on, stays quiet on, context?]
const table: Array<[string, string, string, LintInput['context']?]> = [
  ['BL001', 'FROM ubuntu\nUSER a\n', 'FROM ubuntu:22.04\nUSER a\n'],
  ['BL001', 'FROM nvidia/cuda:latest\nUSER a\n', 'FROM base:1 AS b\nFROM b\nUSER a\n'],
  ['BL002', 'FROM a:1\nRUN x\n', 'FROM a:1\nUSER 1000\n'],
  ['BL002', 'FROM a:1\nUSER app\nUSER root\n', 'FROM a:1\nUSER root\nUSER app\n'],
  [
    'BL003',
    'FROM a:1\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\nUSER a\n',
    'FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends x && rm -rf /var/lib/apt/lists/*\nUSER a\n',
  ],
  [
    'BL004',
    'FROM a:1\nRUN apt-get update && apt-get install python3\nUSER a\n',
    'FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\nUSER a\n',
  ],
  [
    'BL004',
    'FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends x\nUSER a\n',
    'FROM a:1\nRUN --mount=type=cache,target=/var/cache/apt --mount=type=cache,target=/var/lib/apt apt-get update && apt-get install -y --no-install-recommends x\nUSER a\n',
  ],
  ['BL005', 'FROM a:1\nRUN apt-get update & apt-get install -y x\nUSER a\n', 'FROM a:1\nRUN make 2>&1 | tee log && echo "a & b" && cmd &> out\nUSER a\n'],
  ['BL006', 'FROM a:1\nRUN pip install torch\nUSER a\n', 'FROM a:1\nRUN pip install --no-cache-dir torch\nUSER a\n'],
  [
    'BL006',
    'FROM a:1\nRUN python -m pip install -r r.txt\nUSER a\n',
    'FROM a:1\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt\nUSER a\n',
  ],
  [
    'BL007',
    'FROM a:1\nCOPY . /app\nRUN pip install --no-cache-dir -r /app/requirements.txt\nUSER a\n',
    'FROM a:1\nCOPY requirements.txt /app/\nRUN pip install --no-cache-dir -r /app/requirements.txt\nCOPY . /app\nUSER a\n',
  ],
  ['BL008', 'FROM a:1\nRUN a\nRUN b\nRUN c\nUSER a\n', 'FROM a:1\nRUN a\nRUN b\nUSER a\n'],
  ['BL009', 'FROM a:1\nADD app.py /app/\nUSER a\n', 'FROM a:1\nADD https://example.com/x.tar.gz /opt/\nADD model.tar.gz /models/\nUSER a\n'],
  ['BL010', 'FROM a:1\nENV HF_TOKEN=hf_abc\nUSER a\n', 'FROM a:1\nENV HF_HOME=/cache GPG_KEY=ABCD\nUSER a\n'],
  ['BL010', 'ARG GITHUB_TOKEN\nFROM a:1\nUSER a\n', 'ARG VERSION\nFROM a:1\nUSER a\n'],
  ['BL011', 'FROM a:1\nWORKDIR app\nUSER a\n', 'FROM a:1\nWORKDIR /app\nUSER a\n'],
  ['BL012', 'FROM a:1\nRUN cd /src && make\nUSER a\n', 'FROM a:1\nWORKDIR /src\nRUN make\nUSER a\n'],
  ['BL013', 'FROM a:1\nUSER a\nCMD python3 app.py\n', 'FROM a:1\nUSER a\nCMD ["python3", "app.py"]\n'],
  ['BL013', 'FROM a:1\nUSER a\nENTRYPOINT python3 serve.py\n', 'FROM a:1\nUSER a\nENTRYPOINT ["python3", "serve.py"]\n'],
  ['BL014', 'FROM a:1\nMAINTAINER me\nUSER a\n', 'FROM a:1\nLABEL org.opencontainers.image.authors=me\nUSER a\n'],
  [
    'BL015',
    'FROM a:1\nRUN curl -fsSL https://x/install.sh | sh\nUSER a\n',
    'FROM a:1\nRUN set -o pipefail && curl -fsSL https://x/install.sh | bash\nUSER a\n',
  ],
  ['BL016', 'FROM --platform=linux/amd64 a:1\nUSER a\n', 'FROM --platform=$BUILDPLATFORM a:1\nUSER a\n'],
  [
    'BL017',
    'FROM a:1\nRUN wget https://x/tool-linux-amd64.tgz\nUSER a\n',
    'FROM a:1\nARG TARGETARCH\nRUN wget https://x/tool-linux-${TARGETARCH}.tgz\nUSER a\n',
  ],
  ['BL018', 'FROM a:1\nCOPY data/train.csv /d/\nUSER a\n', 'FROM a:1\nCOPY src /app/\nUSER a\n', ctx(['data/train.csv'])],
  ['BL019', 'FROM a:1\nUSER a\n', 'FROM a:1\nUSER a\n', ctx([], 500e6, false)],
  [
    'BL020',
    'FROM a:1\nRUN pip install --no-cache-dir torch==2.3.0 numpy\nUSER a\n',
    'FROM a:1\nRUN pip install --no-cache-dir torchmetrics-lite numpy\nUSER a\n',
  ],
  [
    'BL020',
    'FROM pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime\nUSER a\n',
    'FROM python:3.11-slim\nRUN apt-get install -y --no-install-recommends python3-numpy\nUSER a\n',
  ],
  ['BL020', 'FROM a:1\nRUN conda install -y pytorch torchvision -c pytorch\nUSER a\n', 'FROM a:1\nRUN echo torch\nUSER a\n'],
  [
    'BL020',
    'FROM a:1\nRUN if [ -n "$T" ]; then apt-get install -y --no-install-recommends python3-torch; fi\nUSER a\n',
    'FROM a:1\nCOPY torch /opt/torch\nUSER a\n',
  ],
];

describe('every rule fires on its positive case and not on its negative case', () => {
  for (const [rule, bad, good, context] of table) {
    it(`${rule}: ${JSON.stringify(bad.split('\n')[1] ?? bad).slice(0, 60)}`, async () => {
      assert.ok((await ids(bad, context)).includes(rule), `${rule} should fire`);
      const quietCtx = rule === 'BL019' ? ctx([], 500e6, true) : context;
      assert.ok(!(await ids(good, quietCtx)).includes(rule), `${rule} should not fire`);
    });
  }
  it('covers every rule', () => assert.deepEqual([...new Set(table.map((r) => r[0]))].sort(), BERTH_RULES.map((r) => r.id).sort()));
});

describe('the seed example', () => {
  // The seed's example, as its text gives it: an unpinned base, the whole context copied
  // before the dependencies, and `&` where `&&` was meant, without -y.
  const seed = 'FROM ubuntu\nCOPY . /app\nRUN apt-get update & apt-get install python3-numpy\nWORKDIR /app\nCMD ["python3", "app.py"]\n';
  it('reports &, missing -y, the unpinned base, root and the order', async () => {
    const findings = await lint({ file: 'Dockerfile', dockerfile: loadDockerfile(seed) });
    const got = new Set(findings.map((f) => f.ruleId));
    for (const id of ['BL005', 'BL004', 'BL001', 'BL002', 'BL007']) assert.ok(got.has(id), `missing ${id}`);
    assert.match(findings.find((f) => f.ruleId === 'BL004')!.message, /-y/);
    assert.deepEqual(findings.find((f) => f.ruleId === 'BL005')!.line, 3);
  });
  it('the fixed example in examples/ml is clean of warnings', async () => {
    const src = readFileSync(new URL('../../examples/ml/Dockerfile', import.meta.url), 'utf8');
    const findings = await lint({ file: 'Dockerfile', dockerfile: loadDockerfile(src) });
    assert.deepEqual(
      findings.filter((f) => f.severity !== 'info').map((f) => `${f.ruleId} ${f.message}`),
      [],
    );
  });
});

describe('suppression', () => {
  const src = 'FROM ubuntu\n# berth-ignore BL005\nRUN a & b\nUSER a\n';
  it('an inline berth-ignore silences that rule on that instruction', async () => assert.ok(!(await ids(src)).includes('BL005')));
  it('# check=skip= silences rules for the file', async () => {
    const r = await ids('# check=skip=BL001,BL002\nFROM ubuntu\n');
    assert.ok(!r.includes('BL001') && !r.includes('BL002'));
  });
  it('--ignore silences a rule', async () => {
    const f = await lint({ file: 'Dockerfile', dockerfile: loadDockerfile('FROM ubuntu\n') }, { ignore: ['BL001'] });
    assert.ok(!f.some((x) => x.ruleId === 'BL001'));
  });
});

const ML = corpusDir('ml-dockerfiles');
describe('ML corpus', { skip: ML ? false : CORPUS_ABSENT }, () => {
  const dir = ML ?? new URL('.', import.meta.url);
  const files = ML ? readdirSync(dir).filter((f) => f.endsWith('Dockerfile')) : [];
  it(`lints all ${files.length} files without crashing; counts per rule`, async () => {
    const parsed = files.map((f) => ({ f, df: loadDockerfile(readFileSync(new URL(f, dir), 'utf8'), f) }));
    const counts = new Map<string, number>(RULES.map((r) => [r.id, 0]));
    const filesHit = new Map<string, Set<string>>();
    const t0 = performance.now();
    for (const { f, df } of parsed) {
      for (const x of await lint({ file: f, dockerfile: df })) {
        counts.set(x.ruleId, counts.get(x.ruleId)! + 1);
        (filesHit.get(x.ruleId) ?? filesHit.set(x.ruleId, new Set()).get(x.ruleId)!).add(f);
      }
    }
    const ms = performance.now() - t0;
    console.log(`# lint over ${files.length} ML Dockerfiles in ${ms.toFixed(1)} ms`);
    for (const r of RULES)
      console.log(
        `#   ${r.id} ${r.name.padEnd(36)} ${String(counts.get(r.id)).padStart(4)} findings in ${String(filesHit.get(r.id)?.size ?? 0).padStart(2)} files`,
      );
    // No rule should fire on nearly every file (false-positive smell).
    for (const [id, set] of filesHit) assert.ok(set.size < files.length * 0.9, `${id} fires on ${set.size}/${files.length} files`);
  });
});

describe('output', () => {
  it('SARIF validates against the SARIF 2.1.0 schema', async () => {
    const Ajv = require('ajv-draft-04') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
    const validate = new Ajv({ strict: false, unicodeRegExp: false, validateFormats: false }).compile(
      JSON.parse(readFileSync(new URL('../fixtures/sarif-2.1.0.schema.json', import.meta.url), 'utf8')),
    );
    const findings = await lint({ file: 'Dockerfile', dockerfile: loadDockerfile('FROM ubuntu\nRUN a & b\n') });
    const sarif = toSarif('Dockerfile', findings, RULES);
    assert.ok(validate(sarif), JSON.stringify(validate.errors));
    assert.ok(!validate({ version: '2.1.0' }), 'the schema must reject an invalid log');
  });
  it('docs/lint-rules.md is generated from the rules and current', () => {
    assert.equal(readFileSync(new URL('../../docs/lint-rules.md', import.meta.url), 'utf8'), renderLintDocs(), 'run npm run docs:lint');
  });
});
