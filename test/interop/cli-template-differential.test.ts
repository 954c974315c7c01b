/**
 * Differential (issue 22): Go templates in `--format` through docker CLI 28 against a private
 * dockerd and through berth, on the same named objects made in both (a container with labels,
 * a volume mount and env; a second container; a labelled volume; the busybox image). stdout
 * and exit codes must be equal, and for errors the first stderr line (docker's words), after
 * cli-diff's masking of ids, times and sizes.
 *
 * The docker CLI is 28's (/usr/local/bin/docker): the shared helper's default, /usr/bin/docker,
 * is 20.10's, whose inspect has no `--format json` and other exit statuses for template errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { DOCKER_HOST, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const DOCKER_28 = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
function docker(args: readonly string[]) {
  const r = spawnSync(DOCKER_28, args, { env: { ...process.env, DOCKER_HOST }, timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status ?? 137, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const t = tempRoot('berth-diff-tmpl-');
const SETUP: string[][] = [
  ['import', busyboxTar(), 'bbdiff:1'],
  [
    'create',
    '--name',
    'tmplbox',
    '--label',
    'team=ml',
    '--label',
    'tier=gpu',
    '-v',
    'tvol:/data',
    '-e',
    'FOO=bar',
    '--hostname',
    'box',
    'bbdiff:1',
    'sleep',
    '100',
  ],
  ['create', '--name', 'tmpl2', 'bbdiff:1', 'true'],
  ['volume', 'create', '--label', 'a=b', 'vol2'],
];
before(async () => {
  await startDockerd();
  for (const args of SETUP) {
    const d = docker(args);
    assert.equal(d.code, 0, d.stderr);
    const b = t.run(args);
    assert.equal(b.code, 0, b.stderr);
  }
});
after(() => {
  stopDockerd();
  for (const name of ['tmplbox', 'tmpl2']) t.run(['rm', '-f', name]);
  t.cleanup();
});

const inspect = (format: string, ...names: string[]) => ['inspect', '--format', format, ...(names.length ? names : ['tmplbox'])];
const noBlank = (out: string) => out.replace(/^\n/gm, '');
/** The names in `inspect --format json`'s array, which says it is the array docker prints without comparing paths. */
const jsonNames = (out: string) => {
  try {
    return (JSON.parse(out) as Array<{ Name: string }>).map((v) => v.Name).join(',');
  } catch {
    return `not JSON: ${out}`;
  }
};

const cases: DiffCase[] = [
  // inspect: fields, maps, slices, control structures
  { name: 'field', args: inspect('{{.Name}}') },
  { name: 'chained field', args: inspect('{{.Config.Hostname}}') },
  { name: 'index of a map', args: inspect('{{index .Config.Labels "team"}}') },
  { name: 'missing map key prints <no value>', args: inspect('{{.Config.Labels.team}}-{{.Config.Labels.nope}}') },
  { name: 'index of a missing key is empty', args: inspect('[{{index .Config.Labels "nope"}}]') },
  { name: 'range over mounts', args: inspect('{{range .Mounts}}{{.Name}}:{{.Destination}}:{{.RW}} {{end}}') },
  { name: 'json of a map', args: inspect('{{json .Config.Labels}}') },
  { name: 'map printed as Go does', args: inspect('{{.Config.Labels}}') },
  { name: 'slice printed as Go does', args: inspect('{{.Config.Env}} {{.Config.Cmd}} {{len .Config.Cmd}}') },
  { name: 'if/else on a bool', args: inspect('{{.State.Status}} {{if .State.Running}}up{{else}}down{{end}}') },
  { name: 'with', args: inspect('{{with .Config.Labels}}{{.tier}}{{end}}|{{with .Config.Labels.nope}}x{{else}}none{{end}}') },
  { name: 'range with variables', args: inspect('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}') },
  { name: 'variables and $', args: inspect('{{$n := .Name}}{{$n}} {{$.Config.Hostname}}{{$n = "x"}} {{$n}}') },
  { name: 'printf verbs', args: inspect('{{printf "%s|%5.2f|%d|%q|%v|%-4s|%x|%t" .Name 3.14159 42 "x" .Config.Cmd "ab" 255 true}}') },
  { name: 'print and println', args: inspect('{{print 1 2 "a" 3}}|{{println .Name "x"}}') },
  { name: 'docker string functions', args: inspect('{{upper .Name}} {{lower "ABC"}} {{title "hello world"}}') },
  { name: 'join and split', args: inspect('{{join .Config.Cmd ","}} {{split "a,b,c" ","}} {{len (split "a,b,c" ",")}}') },
  { name: 'pad and truncate', args: inspect('{{pad .Config.Hostname 2 3}}|{{truncate .Name 4}}|{{truncate .Name 40}}') },
  { name: 'comparisons', args: inspect('{{eq .State.Status "created" "running"}} {{ne 1 2}} {{lt 1 2}} {{ge "b" "a"}} {{le 2 1}}') },
  { name: 'and/or/not values', args: inspect('{{and 1 0}} {{or 0 "" "x"}} {{not true}} {{and .Name .Config.Hostname}}') },
  { name: 'trim markers and comments', args: inspect('{{- /* comment */ -}}  [ {{- .Name -}} ]  {{/* c */}}') },
  { name: 'parenthesised pipeline and pipes', args: inspect('{{(index .Mounts 0).Destination}} {{.Name | printf "%s!" | upper}}') },
  { name: 'len and slice of a string', args: inspect('{{len .Name}} {{slice .Name 1 4}}') },
  { name: 'nil pointer prints <nil>', args: inspect('{{.State.Health}}') },
  { name: 'range else', args: inspect('{{range .Config.Entrypoint}}x{{else}}no entrypoint{{end}}') },
  { name: 'html js urlquery', args: inspect('{{html "<a&b>"}} {{js "it\'s"}} {{urlquery "a b&c"}}') },
  { name: 'two objects', args: inspect('{{.Name}} {{.Config.Cmd}}', 'tmplbox', 'tmpl2') },
  { name: 'json', args: ['inspect', '--format', 'json', 'tmplbox', 'tmpl2'], mask: jsonNames },
  // inspect: errors, in docker's words and with its exit statuses
  { name: 'missing field', args: inspect('{{.Foo}}'), stderr: true },
  { name: 'missing nested field', args: inspect('{{.Config.Foo}}'), stderr: true },
  { name: 'unknown function', args: inspect('{{foo .Name}}'), stderr: true },
  { name: 'unclosed action', args: inspect('{{.Name'), stderr: true },
  { name: 'unclosed range', args: inspect('{{range .Mounts}}x'), stderr: true },
  { name: 'nil is not a command', args: inspect('{{nil}}'), stderr: true },
  { name: 'index out of range', args: inspect('{{index .Mounts 5}}'), stderr: true },
  { name: 'wrong argument type', args: inspect('{{upper .State.Pid}}'), stderr: true },
  { name: 'one object fails, the other prints', args: inspect('{{if eq .Name "/tmpl2"}}{{.Foo}}{{else}}{{.Name}}{{end}}', 'tmpl2', 'tmplbox'), stderr: true },
  // image, volume and network inspect
  { name: 'image inspect', args: ['image', 'inspect', '--format', '{{.RepoTags}} {{.Os}} {{.Architecture}} {{json .RepoTags}}', 'bbdiff:1'] },
  { name: 'image inspect missing field', args: ['image', 'inspect', '--format', '{{.Foo}}', 'bbdiff:1'], stderr: true },
  { name: 'volume inspect', args: ['volume', 'inspect', '--format', '{{.Name}} {{.Labels}} {{.Options}} {{.Driver}} {{.Labels.zz}}', 'vol2'] },
  { name: 'volume inspect missing field', args: ['volume', 'inspect', '--format', '{{.Foo}}', 'vol2'], stderr: true },
  { name: 'volume inspect unknown function', args: ['volume', 'inspect', '--format', '{{foo}}', 'vol2'], stderr: true },
  { name: 'network inspect', args: ['network', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}}', 'none'] },
  // list verbs: rows with methods, tables with docker's headers, json lines
  { name: 'ps label method', args: ['ps', '-a', '--format', '{{.Names}} [{{.Label "team"}}]'], unordered: true },
  {
    name: 'ps table',
    args: ['ps', '-a', '--format', 'table {{.Names}}\\t{{.Image}}\\t{{.Label "team"}}\\t{{.LocalVolumes}}\\t{{.State}}\\t{{.Command}}'],
    unordered: true,
  },
  { name: 'ps missing field', args: ['ps', '-a', '--format', '{{.Foo}}'], stderr: true },
  { name: 'ps unknown function', args: ['ps', '-a', '--format', '{{foo}}'], stderr: true },
  { name: 'ps if', args: ['ps', '-a', '--format', '{{if eq .Names "tmpl2"}}{{.Command}}{{end}}'], mask: noBlank },
  { name: 'images', args: ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}'] },
  { name: 'images table', args: ['images', '--format', 'table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}'] },
  { name: 'history', args: ['history', '--format', '{{.ID}} {{if .CreatedBy}}by{{else}}imported{{end}}', 'bbdiff:1'] },
  { name: 'history table', args: ['history', '--format', 'table {{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}', 'bbdiff:1'] },
  { name: 'history missing field', args: ['history', '--format', '{{.Foo}}', 'bbdiff:1'], stderr: true },
  {
    name: 'images json of a field and of a row',
    args: ['images', '--format', '{{json .Digest}} {{json .}}'],
    mask: (out) => out.replace(/ \{.*"Digest":"([^"]*)".*\}$/gm, ' $1'),
  },
  { name: 'images missing field', args: ['images', '--format', '{{.Foo}}'], stderr: true },
  { name: 'volume ls', args: ['volume', 'ls', '--format', '{{.Name}} {{.Driver}} [{{.Label "a"}}] {{.Labels}}'], unordered: true },
  { name: 'volume ls table', args: ['volume', 'ls', '--format', 'table {{.Name}}\\t{{.Labels}}\\t{{.Scope}}\\t{{.Links}}'], unordered: true },
  {
    name: 'volume ls json',
    args: ['volume', 'ls', '--format', 'json'],
    unordered: true,
    mask: (out) => out.replace(/"Mountpoint":"[^"]*"/g, '"Mountpoint":"<path>"'),
  },
  { name: 'volume ls missing field', args: ['volume', 'ls', '--format', '{{.Foo}}'], stderr: true },
  {
    name: 'network ls',
    args: ['network', 'ls', '--format', '{{if ne .Name "bridge"}}{{.Name}} {{.Driver}} {{.Scope}} {{.IPv6}} {{.Internal}}{{end}}'],
    unordered: true,
    mask: noBlank,
  },
  { name: 'network ls missing field', args: ['network', 'ls', '--format', '{{.Foo}}'], stderr: true },
];

describe('--format templates: berth matches docker 28', () => {
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (args) => t.run(args), docker));
});
