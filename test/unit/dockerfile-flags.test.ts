/** runFlags / copyFlags / parseRunMount: RUN and COPY/ADD flags as typed values, checked at parse time and again expanded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyFlags, loadDockerfile, parseRunMount, parseSize, runFlags, type RunMount } from '../../src/dockerfile/index.ts';
import { BerthError } from '../../src/errors/index.ts';

const invalid = (msg: RegExp) => (e: unknown) => e instanceof BerthError && e.code === 'INVALID_ARGUMENT' && msg.test(e.message);
const syntax = (msg: RegExp, line?: number) => (e: unknown) =>
  e instanceof BerthError && e.code === 'SYNTAX' && msg.test(e.message) && (line === undefined || e.position?.line === line);
const vars: Record<string, string> = { DIR: '/cache', ID: 'pip', T: 'tmpfs', MODE: '0700', EMPTY: '' };
const expand = (w: string) => w.replace(/\$(\w+)/g, (_, n: string) => vars[n] ?? '');

describe('parseRunMount: every key', () => {
  const base = { readonly: true, required: false };
  const cases: Array<[string, Partial<RunMount>]> = [
    ['target=/src', { type: 'bind', target: '/src', ...base }],
    ['type=bind,source=sub,target=/src,from=builder', { type: 'bind', source: 'sub', target: '/src', from: 'builder', ...base }],
    ['type=bind,src=a,dst=/b', { type: 'bind', source: 'a', target: '/b', ...base }],
    ['type=bind,destination=/b', { type: 'bind', target: '/b', ...base }],
    ['type=bind,target=/b,rw', { type: 'bind', target: '/b', readonly: false, required: false }],
    ['type=bind,target=/b,readwrite=true', { type: 'bind', target: '/b', readonly: false, required: false }],
    ['type=bind,target=/b,ro=false', { type: 'bind', target: '/b', readonly: false, required: false }],
    ['type=bind,target=/b,rw=0', { type: 'bind', target: '/b', ...base }],
    ['from=binaries', { type: 'bind', target: '', from: 'binaries', ...base }],
    ['type=cache,target=/root/.cache', { type: 'cache', target: '/root/.cache', readonly: false, required: false }],
    [
      'TYPE=CACHE,Target=/c,id=pip,sharing=LOCKED,mode=0755,uid=1000,gid=1001,ro',
      { type: 'cache', target: '/c', id: 'pip', sharing: 'locked', mode: 0o755, uid: 1000, gid: 1001, readonly: true, required: false },
    ],
    ['type=cache,target=/c,sharing=shared,readonly=true', { type: 'cache', target: '/c', sharing: 'shared', readonly: true, required: false }],
    ['type=cache,target=/c,from=base,source=/x', { type: 'cache', target: '/c', from: 'base', source: '/x', readonly: false, required: false }],
    ['type=tmpfs,target=/t', { type: 'tmpfs', target: '/t', readonly: false, required: false }],
    ['type=tmpfs,target=/t,size=64m', { type: 'tmpfs', target: '/t', size: 64 * 2 ** 20, readonly: false, required: false }],
    ['type=secret,id=tok', { type: 'secret', id: 'tok', target: '/run/secrets/tok', ...base }],
    ['type=secret,target=/run/secrets/npmrc/', { type: 'secret', id: 'npmrc', target: '/run/secrets/npmrc/', ...base }],
    ['type=secret,source=aws', { type: 'secret', id: 'aws', target: '/run/secrets/aws', ...base }],
    [
      'type=secret,id=tok,target=/t,required,mode=0440,uid=1,gid=2',
      { type: 'secret', id: 'tok', target: '/t', mode: 0o440, uid: 1, gid: 2, readonly: true, required: true },
    ],
    ['type=secret,id=tok,required=false,env=TOKEN', { type: 'secret', id: 'tok', target: '/run/secrets/tok', env: 'TOKEN', ...base }],
    ['type=ssh', { type: 'ssh', id: 'default', target: '/run/buildkit/ssh_agent.0', ...base }],
    ['type=ssh,id=gh,target=/ssh,required=true', { type: 'ssh', id: 'gh', target: '/ssh', readonly: true, required: true }],
    ['"type=bind","target=/a,b"', { type: 'bind', target: '/a,b', ...base }],
  ];
  for (const [spec, want] of cases) {
    it(spec, () => {
      const got = parseRunMount(spec, (w) => w);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof RunMount], v, k);
    });
  }
});

describe('parseRunMount: every error', () => {
  const cases: Array<[string, RegExp]> = [
    ['type=volume,target=/x', /unsupported mount type "volume"/],
    ['type=bind,target=/x,nosuid', /invalid field 'nosuid'.*key=value/],
    ['type=bind,traget=/x', /unexpected key 'traget'/],
    ['type=bind,target=/x,shareing=shared', /unexpected key 'shareing'/],
    ['type=bind,target=/x,ro=yes', /invalid value for ro: yes/],
    ['type=bind,target=/x,rw=maybe', /invalid value for rw: maybe/],
    ['type=secret,id=x,required=2', /invalid value for required: 2/],
    ['type=cache,target=/x,mode=0999', /invalid value 0999 for mode/],
    ['type=cache,target=/x,uid=-1', /invalid value -1 for uid/],
    ['type=cache,target=/x,gid=abc', /invalid value abc for gid/],
    ['type=cache,target=/x,uid=99999999999', /invalid value 99999999999 for uid/],
    ['type=bind,target=/x,mode=0755', /mode not allowed for "bind"/],
    ['type=tmpfs,target=/x,uid=0', /uid not allowed for "tmpfs"/],
    ['type=bind,target=/x,gid=0', /gid not allowed for "bind"/],
    ['type=cache,target=/x,size=1m', /unexpected key 'size' for mount type 'cache'/],
    ['type=tmpfs,target=/x,size=lots', /invalid value for size: lots/],
    ['type=cache,target=/x,required', /unexpected key 'required' for mount type 'cache'/],
    ['type=cache,target=/x,sharing=everyone', /unsupported sharing value "everyone"/],
    ['type=bind,target=/x,sharing=shared', /invalid cache sharing set for bind/],
    ['type=secret,id=x,from=stage', /secret mount should not have a from/],
    ['type=secret,id=x,source=y', /both source and id/],
    ['type=secret', /one of id, source or target is required/],
    ['type=bind,env=X,target=/x', /unexpected key 'env' for mount type 'bind'/],
    ['type=bind,"target=/x', /quote is not closed/],
  ];
  for (const [spec, msg] of cases) it(spec, () => assert.throws(() => parseRunMount(spec, (w) => w), invalid(msg)));
});

describe('parseRunMount: parse time and expansion', () => {
  it('a mistyped key gets the nearest known one as its hint', () => {
    assert.throws(
      () => parseRunMount('traget=/x'),
      (e) => e instanceof BerthError && e.hint === 'did you mean target?',
    );
    assert.throws(
      () => parseRunMount(`${'k'.repeat(100_000)}=1`),
      (e) => e instanceof BerthError && /keys are/.test(e.hint ?? '') && e.message.length < 300,
    );
  });
  it('values are expanded one by one, after the fields are split', () => {
    const m = parseRunMount('type=$T,target=$DIR/x', expand);
    assert.deepEqual([m.type, m.target], ['tmpfs', '/cache/x']);
    assert.equal(parseRunMount('type=cache,target=/c,id=$ID,mode=$MODE', expand).mode, 0o700);
  });
  it('at parse time a value with a variable is left for later, but its key is checked', () => {
    assert.doesNotThrow(() => parseRunMount('type=$T,target=/x,size=1m'));
    assert.doesNotThrow(() => parseRunMount('type=cache,target=$DIR,mode=$MODE'));
    assert.throws(() => parseRunMount('type=$T,tagret=/x'), invalid(/unexpected key 'tagret'/));
    assert.throws(() => parseRunMount('type=cache,target=$DIR,mode=9'), invalid(/invalid value 9 for mode/));
  });
  it('sizes read as docker reads them', () => {
    assert.deepEqual(
      ['1024', '1k', '1KiB', '1.5m', '2g', '1 GB'].map((s) => parseSize(s)),
      [1024, 1024, 1024, 1.5 * 2 ** 20, 2 * 2 ** 30, 2 ** 30],
    );
    for (const bad of ['', '-1', '1x', '1mm', '50%']) assert.throws(() => parseSize(bad), invalid(/invalid value for size/));
  });
});

describe('runFlags', () => {
  it('network and security', () => {
    assert.deepEqual(runFlags({ network: ['none'], security: ['insecure'] }), { mounts: [], network: 'none', security: 'insecure', devices: [] });
    assert.deepEqual(runFlags({ network: ['host'] }), { mounts: [], network: 'host', security: undefined, devices: [] });
    assert.deepEqual(runFlags({ network: ['default'], security: ['sandbox'] }), { mounts: [], network: 'default', security: 'sandbox', devices: [] });
    assert.throws(() => runFlags({ network: ['bridge'] }), invalid(/unsupported --network value "bridge"/));
    assert.throws(() => runFlags({ security: ['privileged'] }), invalid(/unsupported --security value "privileged"/));
  });
  it('every --mount is read', () => {
    assert.deepEqual(
      runFlags({ mount: ['type=cache,target=/a', 'type=tmpfs,target=/b'] }, (w) => w).mounts.map((m) => m.type),
      ['cache', 'tmpfs'],
    );
  });
});

describe('copyFlags', () => {
  it('every flag', () => {
    const f = copyFlags({ from: ['build'], chown: ['1:2'], chmod: ['0755'], link: ['true'], parents: ['true'], exclude: ['*.md', '*.txt'] });
    assert.deepEqual(f, {
      from: 'build',
      chown: '1:2',
      chmod: 0o755,
      link: true,
      parents: true,
      exclude: ['*.md', '*.txt'],
      checksum: undefined,
      keepGitDir: false,
      unpack: undefined,
    });
    const add = copyFlags({ checksum: [`sha256:${'a'.repeat(64)}`], 'keep-git-dir': ['true'], unpack: ['false'], link: ['false'] }, (w) => w);
    assert.deepEqual([add.checksum, add.keepGitDir, add.unpack, add.link, add.parents], [`sha256:${'a'.repeat(64)}`, true, false, false, false]);
  });
  it('expanded values; empty --from and --chown mean none', () => {
    const f = copyFlags({ from: ['$EMPTY'], chown: ['$EMPTY'], chmod: ['$MODE'], exclude: ['$DIR/*'] }, expand);
    assert.deepEqual([f.from, f.chown, f.chmod, f.exclude], [undefined, undefined, 0o700, ['/cache/*']]);
  });
  it('errors', () => {
    for (const bad of ['999', 'u+x', '77777', '']) if (bad) assert.throws(() => copyFlags({ chmod: [bad] }), invalid(/invalid --chmod value/));
    assert.throws(() => copyFlags({ checksum: ['md5'] }), invalid(/invalid --checksum/));
    assert.doesNotThrow(() => copyFlags({ checksum: ['sha256:00'] }), 'at parse time only the shape');
    assert.throws(() => copyFlags({ checksum: ['sha256:00'] }, (w) => w), invalid(/invalid --checksum/));
    assert.throws(
      () => copyFlags({ checksum: [`sha512:${'a'.repeat(128)}`] }, (w) => w),
      (e) => e instanceof BerthError && /only sha256/.test(e.hint ?? ''),
    );
    assert.throws(() => copyFlags({ link: ['yes'] }), invalid(/invalid value for --link: yes/));
    assert.doesNotThrow(() => copyFlags({ chmod: ['$MODE'] }), 'a variable is judged once expanded');
  });
});

describe('at parse time, as lint and build see them', () => {
  const cases: Array<[string, RegExp, number]> = [
    ['FROM a\nRUN --mount=type=cach,target=/x true\n', /unsupported mount type "cach"/, 2],
    ['FROM a\n\nRUN --mount=type=cache,target=/x,sharing=all true\n', /unsupported sharing value/, 3],
    ['FROM a\nRUN --network=bridge true\n', /unsupported --network value/, 2],
    ['FROM a\nRUN --security=root true\n', /unsupported --security value/, 2],
    ['FROM a\nCOPY --chmod=rwx a b\n', /invalid --chmod value "rwx"/, 2],
    ['FROM a\nADD --checksum=nope https://x/y /z\n', /invalid --checksum/, 2],
    ['FROM a\nCOPY --link=maybe a b\n', /expecting boolean value for flag link/, 2],
  ];
  for (const [src, msg, line] of cases) it(msg.source, () => assert.throws(() => loadDockerfile(src), syntax(msg, line)));
  it('a valid file types every flag', () => {
    const df = loadDockerfile(
      'FROM a\nARG T=cache\nRUN --mount=type=$T,target=/c --mount=type=secret,id=s,required --network=none true\nCOPY --from=0 --chown=1 --chmod=644 --link --parents --exclude=x a b\n',
    );
    assert.equal(df.stages[0]!.instructions.length, 3);
  });
});
