import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, formatRows, humanDuration, humanSize, renderTemplate } from '../../src/cli/format.ts';

describe('humanSize (docker units: decimal, 3 significant digits)', () => {
  const cases: Array<[number, string]> = [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [4_261_000, '4.26MB'],
    [1_500_000_000, '1.5GB'],
    [12_345_678, '12.3MB'],
  ];
  for (const [n, want] of cases) it(`${n} → ${want}`, () => assert.equal(humanSize(n), want));
});

describe('humanDuration', () => {
  const cases: Array<[number, string]> = [
    [500, 'Less than a second'],
    [1000, '1 second'],
    [45_000, '45 seconds'],
    [60_000, 'About a minute'],
    [5 * 60_000, '5 minutes'],
    [3600_000, 'About an hour'],
    [5 * 3600_000, '5 hours'],
    [3 * 24 * 3600_000, '3 days'],
  ];
  for (const [ms, want] of cases) it(`${ms}ms → ${want}`, () => assert.equal(humanDuration(ms), want));
});

describe('Go-template subset', () => {
  const row = { Repository: 'bb', Tag: '1', Config: { Env: ['A=1'] } };
  const cases: Array<[string, string]> = [
    ['{{.Repository}}:{{.Tag}}', 'bb:1'],
    ['{{json .Config.Env}}', '["A=1"]'],
    ['{{upper .Repository}}', 'BB'],
    ['{{.Missing}}', '<no value>'],
    ['{{.Repository}}\\t{{.Tag}}', 'bb\\t1'],
  ];
  for (const [tpl, want] of cases) it(tpl, () => assert.equal(renderTemplate(tpl, row), want));

  it('renders a table with aligned columns', () => {
    const s = formatRows(
      undefined,
      [
        { A: 'x', B: 'yy' },
        { A: 'longer', B: 'z' },
      ],
      { headers: ['A', 'B'], cells: (r) => [String(r.A), String(r.B)] },
    );
    assert.equal(s, 'A        B\nx        yy\nlonger   z\n');
  });

  it('renders json lines', () => {
    assert.equal(formatRows('json', [{ A: 1 }], { headers: [], cells: () => [] }), '{"A":1}\n');
  });
});

describe("malformed templates, refused with Go text/template's words", () => {
  const refused: Array<[string, string]> = [
    ['{{.Foo', 'unclosed action'],
    ['{{ .Id }}x{{', 'unclosed action'],
    ['a\n{{.X', ':2: unclosed action'],
    ['{{.Id}', "bad character U+007D '}'"],
    ['{{.Id;}}', "bad character U+003B ';'"],
    ['{{}}', 'missing value for command'],
    ['{{bogus .Id}}', 'function "bogus" not defined'],
    ['{{printf "%s .Id}}', 'unterminated quoted string'],
  ];
  for (const [tpl, want] of refused) {
    it(`refuses ${JSON.stringify(tpl)}`, () => {
      assert.throws(
        () => renderTemplate(tpl, {}),
        (e: Error & { code?: string }) => e.code === 'SYNTAX' && e.message.startsWith('template parsing error: template: :') && e.message.endsWith(want),
      );
      assert.throws(() => formatRows(`table ${tpl}`, [], { headers: [], cells: () => [] }), /template parsing error/);
    });
  }

  const accepted = [
    '{{.Id}} }}',
    '{{- .Id -}}',
    '{{range .Mounts}}{{.Source}} {{end}}',
    '{{index .Config.Labels "a.b"}}',
    '{{/* c */}}{{.Id}}',
    '{{if eq .State.Status "running"}}up{{end}}',
    '{{$x := .Id}}{{$x}}',
    'plain',
  ];
  for (const tpl of accepted) it(`takes ${JSON.stringify(tpl)}`, () => assert.doesNotThrow(() => compileTemplate(tpl)));
});
