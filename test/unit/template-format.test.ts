/**
 * `--format` as the CLI uses the engine: list rows (formatRows: json lines, `table` with
 * docker's headers, row methods, each verb's error words and exit status) and inspect
 * (formatInspect and goView: Go structs against maps, nil slices, `json`, partial failures).
 * Expected outputs are docker CLI 28's for the same shapes of data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusError } from '../../src/cli/exit.ts';
import { formatRows, goTime, IMAGES_CONTEXT, labelMethod, PS_CONTEXT, renderTemplate, tabwrite, VOLUMES_CONTEXT } from '../../src/cli/format.ts';
import { formatInspect, goView } from '../../src/cli/format-inspect.ts';
import { parseTemplate } from '../../src/template/index.ts';

const TABLE = { headers: ['CONTAINER ID', 'NAMES'], cells: (r: Record<string, unknown>) => [String(r.ID), String(r.Names)] };
const psRows = [
  {
    ID: '1dbf31f13f04',
    Names: 'tmplbox',
    Image: 'bbdiff:1',
    RunningFor: '2 minutes ago',
    LocalVolumes: '1',
    Labels: 'team=ml',
    Label: labelMethod({ team: 'ml' }),
  },
  { ID: '9ebffc9f4020', Names: 'tmpl2', Image: 'bbdiff:1', RunningFor: '1 second ago', LocalVolumes: '0', Labels: '', Label: labelMethod({}) },
];

function fails(f: () => unknown, status: number, message: string): void {
  assert.throws(f, (e: unknown) => e instanceof StatusError && e.status === status && e.message === message);
}

describe('formatRows: list verbs', () => {
  const cases: Array<[string, string | undefined, string]> = [
    ['default table', undefined, 'CONTAINER ID   NAMES\n1dbf31f13f04   tmplbox\n9ebffc9f4020   tmpl2\n'],
    ['bare "table"', 'table', 'CONTAINER ID   NAMES\n1dbf31f13f04   tmplbox\n9ebffc9f4020   tmpl2\n'],
    ['a field per row', '{{.Names}}', 'tmplbox\ntmpl2\n'],
    ['\\t typed in the format is a tab', '{{.Names}}\\t{{.Image}}', 'tmplbox\tbbdiff:1\ntmpl2\tbbdiff:1\n'],
    ['spaces around the format are trimmed', '  {{.Names}}  ', 'tmplbox\ntmpl2\n'],
    ['a method with an argument', '{{.Names}}=[{{.Label "team"}}]', 'tmplbox=[ml]\ntmpl2=[]\n'],
    ['conditions over rows', '{{if .Labels}}{{.Names}}{{else}}-{{end}}', 'tmplbox\n-\n'],
    [
      'json of a row: keys sorted, methods left out',
      '{{json .}}',
      `${JSON.stringify({ ID: '1dbf31f13f04', Image: 'bbdiff:1', Labels: 'team=ml', LocalVolumes: '1', Names: 'tmplbox', RunningFor: '2 minutes ago' })}\n${JSON.stringify({ ID: '9ebffc9f4020', Image: 'bbdiff:1', Labels: '', LocalVolumes: '0', Names: 'tmpl2', RunningFor: '1 second ago' })}\n`,
    ],
    [
      'table with docker headers, a label column and min width 10',
      'table {{.ID}}\\t{{.Names}}\\t{{.Label "team"}}\\t{{.RunningFor}}\\t{{.LocalVolumes}}',
      'CONTAINER ID   NAMES     team      CREATED         LOCAL VOLUMES\n1dbf31f13f04   tmplbox   ml        2 minutes ago   1\n9ebffc9f4020   tmpl2               1 second ago    0\n',
    ],
    ['table without a space after "table"', 'table{{.Names}}', 'NAMES\ntmplbox\ntmpl2\n'],
  ];
  for (const [name, format, want] of cases) it(name, () => assert.equal(formatRows(format, psRows, TABLE, PS_CONTEXT), want));

  it('json lines escape <>& as docker marshals rows', () => {
    assert.equal(formatRows('json', [{ Digest: '<none>', ID: 'x' }], TABLE, IMAGES_CONTEXT), '{"Digest":"\\u003cnone\\u003e","ID":"x"}\n');
  });
  it('{{json .}} of a row escapes <>& too (the row marshals itself); the json function of a string does not', () => {
    assert.equal(formatRows('{{json .}} {{json .Digest}}', [{ Digest: '<none>' }], TABLE, IMAGES_CONTEXT), '{"Digest":"\\u003cnone\\u003e"} "<none>"\n');
  });
  it('a table with no rows still has its header', () => {
    assert.equal(formatRows('table {{.Name}}\\t{{.Driver}}', [], TABLE, VOLUMES_CONTEXT), 'VOLUME NAME   DRIVER\n');
  });
  it('images headers', () => {
    assert.equal(
      formatRows('table {{.ID}}\\t{{.CreatedSince}}\\t{{.VirtualSize}}', [{ ID: 'abc', CreatedSince: '1 day ago', VirtualSize: '2MB' }], TABLE, IMAGES_CONTEXT),
      'IMAGE ID   CREATED     SIZE\nabc        1 day ago   2MB\n',
    );
  });

  const errors: Array<[string, string, typeof PS_CONTEXT, string]> = [
    [
      'ps: unknown field',
      '{{.Foo}}',
      PS_CONTEXT,
      'failed to execute template: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext',
    ],
    ['ps: unknown function', '{{foo}}', PS_CONTEXT, 'failed to parse template: template: :1: function "foo" not defined'],
    ['ps: unclosed action', 'table {{.Names', PS_CONTEXT, 'failed to parse template: template: :1: unclosed action'],
    [
      'images: unknown field',
      '{{.Foo}}',
      IMAGES_CONTEXT,
      'template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.imageContext',
    ],
    ['volumes: unknown function', '{{foo}}', VOLUMES_CONTEXT, 'template parsing error: template: :1: function "foo" not defined'],
    [
      'a field given arguments',
      '{{.Names 1}}',
      PS_CONTEXT,
      'failed to execute template: template: :1:2: executing "" at <.Names>: Names has arguments but cannot be invoked as function',
    ],
    [
      'a method without its argument',
      '{{.Label}}',
      PS_CONTEXT,
      'failed to execute template: template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0',
    ],
  ];
  for (const [name, format, ctx, message] of errors) it(name, () => fails(() => formatRows(format, psRows, TABLE, ctx), 1, message));
});

describe('formatInspect: inspect verbs', () => {
  const container = {
    Id: 'abc',
    Name: '/tmplbox',
    State: { Status: 'created', Running: false, Pid: 0 },
    Config: { Hostname: 'box', Env: ['FOO=bar'], Cmd: ['sleep', '100'], Entrypoint: null, Labels: { team: 'ml', tier: 'gpu' }, Volumes: null },
    HostConfig: { Binds: ['tvol:/data'], LogConfig: { Type: 'json-file', Config: {} }, PortBindings: {}, CapAdd: null, MemorySwappiness: null },
    Mounts: [{ Type: 'volume', Name: 'tvol', Destination: '/data', RW: true }],
    ExecIDs: null,
  };
  const other = { ...container, Name: '/tmpl2', Config: { ...container.Config, Labels: {} } };
  const outputs: Array<[string, string]> = [
    ['{{.Name}}', '/tmplbox\n'],
    ['{{index .Config.Labels "team"}}|{{.Config.Labels.nope}}|{{index .Config.Labels "nope"}}', 'ml|<no value>|\n'],
    ['{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}', 'tvol:/data\n'],
    ['{{.Config.Labels}} {{.Config.Env}} {{.HostConfig.Binds}}', 'map[team:ml tier:gpu] [FOO=bar] [tvol:/data]\n'],
    ['{{.Config.Entrypoint}} {{.ExecIDs}} {{.Config.Volumes}} {{.HostConfig.CapAdd}}', '[] [] map[] []\n'],
    ['{{json .Config.Entrypoint}} {{json .Config.Volumes}} {{len .ExecIDs}}', 'null null 0\n'],
    ['{{.HostConfig.MemorySwappiness}} {{.State.Health}}', '<nil> <nil>\n'],
    // Config fields docker's JSON omits when nil (an image without HEALTHCHECK) are still fields.
    ['{{json .Config.Healthcheck}} {{json .Config.ExposedPorts}} {{.Config.Shell}}', 'null null <nil>\n'],
    ['{{.State}}', '{created false 0 <nil>}\n'],
    ['{{.HostConfig.LogConfig.Config}} {{.HostConfig.PortBindings}}', 'map[] map[]\n'],
    ['{{json .Config.Labels}} {{json .Mounts}}', '{"team":"ml","tier":"gpu"} [{"Type":"volume","Name":"tvol","Destination":"/data","RW":true}]\n'],
    ['{{.Name}}\\t{{.Id}}', '/tmplbox\\tabc\n'],
  ];
  for (const [format, want] of outputs) it(format, () => assert.deepEqual(formatInspect(format, [container]), { stdout: want }));

  it('json is one compact array of every object', () => {
    const { stdout } = formatInspect('json', [container, other]);
    assert.equal(stdout, `${JSON.stringify([container, other])}\n`);
  });
  it('a missing field is an error in the words of docker inspect', () => {
    const r = formatInspect('{{.Config.Foo}}', [container]);
    assert.equal(r.stdout, '\n');
    assert.equal(r.error?.status, 1);
    assert.equal(r.error?.message, 'template parsing error: template: :1:9: executing "" at <.Config.Foo>: map has no entry for key "Foo"');
  });
  it('a number in a type error is a json.Number, as in docker inspect', () => {
    assert.equal(
      formatInspect('{{upper .State.Pid}}', [container]).error?.message,
      'template parsing error: template: :1:14: executing "" at <.State.Pid>: wrong type for value; expected string; got json.Number',
    );
  });
  it('the objects that succeed are printed, then every failure', () => {
    const r = formatInspect('{{if eq .Name "/tmpl2"}}{{.Foo}}{{else}}{{.Name}}{{end}}', [other, container, other]);
    assert.equal(r.stdout, '/tmplbox\n');
    const line = 'template parsing error: template: :1:26: executing "" at <.Foo>: map has no entry for key "Foo"';
    assert.equal(r.error?.message, `${line}\n${line}`);
  });
  it('a syntax error exits 64 before any output', () =>
    fails(() => formatInspect('{{foo}}', [container]), 64, 'template parsing error: template: :1: function "foo" not defined'));
  it('a volume names its type', () => {
    assert.equal(
      formatInspect('{{.Foo}}', [{ Name: 'v', Labels: null, Options: null }], { typeName: 'volume.Volume' }).error?.message,
      'template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type volume.Volume',
    );
    assert.equal(formatInspect('{{.Labels}} {{.Options}} {{.Labels.x}}', [{ Name: 'v', Labels: null, Options: null }]).stdout, 'map[] map[] <no value>\n');
  });
  it('goView leaves the view itself unchanged', () => {
    const before = JSON.stringify(container);
    goView(container);
    assert.equal(JSON.stringify(container), before);
  });
});

describe('renderTemplate: one value (info, version, events)', () => {
  const info = { Driver: 'overlay', Plugins: { Volume: ['local'] } };
  it('fields and maps', () => assert.equal(renderTemplate('{{.Driver}} {{.Plugins.Volume}} {{.Plugins.Nope}}', info), 'overlay [local] <no value>'));
  it("info's missing field names docker's type, without a prefix", () =>
    fails(
      () => renderTemplate('{{.Foo}}', info, { type: 'system.dockerInfo', parseStatus: 64 }),
      1,
      'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type system.dockerInfo',
    ));
  it("info's syntax error exits 64", () =>
    fails(
      () => renderTemplate('{{foo}}', info, { type: 'system.dockerInfo', parseStatus: 64 }),
      64,
      'template parsing error: template: :1: function "foo" not defined',
    ));
  it("version's template is named version", () =>
    fails(
      () => renderTemplate('{{.Foo}}', {}, { name: 'version', type: 'system.versionInfo', parseStatus: 64 }),
      1,
      'template: version:1:2: executing "version" at <.Foo>: can\'t evaluate field Foo in type system.versionInfo',
    ));
  it("events' syntax error has its own words", () =>
    fails(
      () => renderTemplate('{{.X', {}, { parsePrefix: 'Error parsing format: ', parseStatus: 64 }),
      64,
      'Error parsing format: template: :1: unclosed action',
    ));
});

describe('hostile templates stop with an error, not a crash', () => {
  const cases: Array<[string, RegExp]> = [
    [`{{${'('.repeat(5000)}1${')'.repeat(5000)}}}`, /max expression depth exceeded/],
    [`${'{{if 1}}'.repeat(5000)}${'{{end}}'.repeat(5000)}`, /max expression depth exceeded/],
    ['{{define "a"}}{{template "a"}}{{end}}{{template "a"}}', /exceeded maximum template depth \(1000\)/],
    ['{{"\\u00"}}', /invalid syntax/],
    ['{{"\u0000"}}', /.*/],
  ];
  for (const [tpl, want] of cases) {
    it(tpl.slice(0, 60), () => {
      try {
        parseTemplate(tpl).execute({});
      } catch (e) {
        assert.match((e as Error).message, want);
        assert.ok(!(e instanceof RangeError));
      }
    });
  }
});

describe('goTime: Go time.Time String() in UTC', () => {
  const cases: Array<[string, boolean, string]> = [
    ['2026-12-07T21:52:29.370360636Z', false, '2026-12-07 21:52:29 +0000 UTC'],
    ['2026-12-07T21:52:20.779358584Z', true, '2026-12-07 21:52:20.779358584 +0000 UTC'],
    ['2026-12-07T21:52:20.500Z', true, '2026-12-07 21:52:20.5 +0000 UTC'],
    ['2026-12-07T21:52:20Z', true, '2026-12-07 21:52:20 +0000 UTC'],
    ['not a time', false, 'not a time'],
  ];
  for (const [iso, fraction, want] of cases) it(`${iso} ${fraction}`, () => assert.equal(goTime(iso, fraction), want));
});

describe('tabwrite: docker tabwriter (min width 10, padding 3)', () => {
  it('pads every cell but the last of a line', () =>
    assert.equal(tabwrite('A\tBB\tC\nlonger cell\tx\ty\n'), 'A             BB        C\nlonger cell   x         y\n'));
});
