/**
 * Differential: the same Dockerfiles built by berth and by Docker's BuildKit (a private
 * dockerd). The image config fields and the file trees (path, type, mode, uid, gid, size,
 * link target) must be equal. Docker's image is brought into berth with save/load, and
 * both trees are read the same way (create + cp), so only the layers are compared.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { DOCKER_HOST, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

const t = tempRoot('berth-diff-build-');
const work = mkdtempSync(join(tmpdir(), 'berth-diff-build-'));

function dockerBuildKit(args: string[], input?: Buffer) {
  const r = spawnSync('/usr/bin/docker', args, { env: { ...process.env, DOCKER_HOST, DOCKER_BUILDKIT: '1' }, input, maxBuffer: 256 << 20, timeout: 300_000 });
  return { code: r.status ?? 1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), raw: r.stdout };
}

before(async () => {
  await startDockerd();
  assert.equal(dockerBuildKit(['import', busyboxTar(), 'bb:1']).code, 0);
  assert.equal(t.run(['import', busyboxTar(), 'bb:1']).code, 0);
  // An ONBUILD parent, built by each engine for itself.
  const parent = join(work, 'onbuild-parent');
  mkdirSync(parent, { recursive: true });
  writeFileSync(join(parent, 'Dockerfile'), 'FROM bb:1\nONBUILD RUN echo triggered > /onbuild-ran\nONBUILD ENV FROM_TRIGGER=yes\n');
  assert.equal(dockerBuildKit(['build', '--network', 'none', '-t', 'obparent:1', parent]).code, 0);
  assert.equal(t.run(['build', '--network', 'none', '-t', 'obparent:1', parent]).code, 0);
});
after(() => {
  stopDockerd();
  t.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const FILES = {
  'a.txt': 'alpha\n',
  'b.py': 'print(1)\n',
  'c.py': 'print(2)\n',
  'dir/x': 'x\n',
  'dir/sub/y': 'yy\n',
  'data/big.bin': 'big\n',
  'requirements.txt': 'numpy\n',
};

const cases: Array<[string, string, Record<string, string>?]> = [
  ['env and cmd', 'FROM bb:1\nENV A=1 B="two words"\nENV C $A-x\nCMD ["sh", "-c", "echo $A"]\n'],
  ['entrypoint shell form', 'FROM bb:1\nENTRYPOINT echo hi\n'],
  ['entrypoint keeps a cmd set in the stage', 'FROM bb:1\nCMD ["x"]\nENTRYPOINT ["echo"]\n'],
  ['workdir relative and created', 'FROM bb:1\nWORKDIR /app\nWORKDIR sub\nRUN pwd > /where\n'],
  ['user and label', 'FROM bb:1\nUSER 1000:1000\nLABEL org.opencontainers.image.title="berth test" version=1\n'],
  ['expose and volume', 'FROM bb:1\nEXPOSE 8080 9000/udp\nVOLUME /data /cache\nVOLUME ["/models"]\n'],
  ['stopsignal and healthcheck', 'FROM bb:1\nSTOPSIGNAL SIGINT\nHEALTHCHECK --interval=5s --timeout=2s --retries=3 CMD wget -q -O- localhost || exit 1\n'],
  ['healthcheck none', 'FROM bb:1\nHEALTHCHECK NONE\n'],
  ['shell instruction', 'FROM bb:1\nSHELL ["/bin/sh", "-ec"]\nRUN echo via-shell > /s\nCMD echo $0\n'],
  ['copy file to dir', 'FROM bb:1\nCOPY a.txt /dest/\n'],
  ['copy file to new name', 'FROM bb:1\nCOPY a.txt /renamed.txt\n'],
  ['copy dir contents', 'FROM bb:1\nCOPY dir /target\n'],
  ['copy glob', 'FROM bb:1\nCOPY *.py /code/\n'],
  ['copy chown and chmod', 'FROM bb:1\nCOPY --chown=1000:1000 dir /owned\nCOPY --chmod=600 a.txt /secret.txt\n'],
  ['copy chown by name', 'FROM bb:1\nCOPY --chown=user:staff a.txt /home/user/\n'],
  ['copy to relative dest with workdir', 'FROM bb:1\nWORKDIR /w\nCOPY a.txt .\nCOPY dir ./d/\n'],
  ['dockerignore', 'FROM bb:1\nCOPY . /ctx/\n', { '.dockerignore': 'data\n*.py\n!c.py\n' }],
  [
    'arg and env expansion',
    'ARG BASE=bb:1\nFROM $BASE\nARG VERSION=1.2\nENV APP_VERSION=${VERSION}\nWORKDIR /opt/app-${VERSION}\nCOPY a.txt /opt/${VERSION:-none}/\nRUN echo "$VERSION" > /v\n',
  ],
  [
    'multi-stage copy --from',
    'FROM bb:1 AS build\nRUN mkdir -p /out && echo bin > /out/app && chmod 755 /out/app\nFROM bb:1\nCOPY --from=build /out/app /usr/local/bin/app\nCOPY --from=0 /out /out2\n',
  ],
  ['run creates and deletes', 'FROM bb:1\nRUN mkdir -p /x/y && echo 1 > /x/y/f && ln -s /x/y/f /link\nRUN rm -rf /x/y && mkdir /x/z\n'],
  ['run replaces a dir', 'FROM bb:1\nRUN mkdir /d && touch /d/a /d/b\nRUN rm -rf /d && mkdir /d && touch /d/c\n'],
  [
    'quotes and escapes in ENV and LABEL',
    'FROM bb:1\nENV Q="a \\"quoted\\" word" S=\'single $HOME\' E=esc\\ aped\nLABEL "key with space"="v" multi="line1 \\\n line2"\n',
  ],
  ['onbuild triggers', 'FROM obparent:1\nRUN cat /onbuild-ran > /copied\n'],
  ['add local tar', 'FROM bb:1\nADD files.tar /unpacked/\n', { 'files.tar': '' }],
  ['requirements first', 'FROM bb:1\nWORKDIR /app\nCOPY requirements.txt .\nRUN wc -l requirements.txt > /req-count\nCOPY . .\nUSER user\n'],
  [
    "workdir made under a user is the user's",
    'FROM bb:1\nRUN echo "app:x:1001:1002::/home/app:/bin/sh" >> /etc/passwd && echo "app:x:1002:" >> /etc/group\nUSER app\nWORKDIR /srv/a\nUSER 0\nWORKDIR /srv/b\nUSER 1003:1004\nWORKDIR /num\n',
  ],
  [
    'run under uid:gid has no supplementary groups, under a name only its /etc/group ones',
    'FROM bb:1\nRUN mkdir -m 777 /out && echo "app:x:1001:1002::/home/app:/bin/sh" >> /etc/passwd && echo "extra:x:1003:app" >> /etc/group\nUSER 1001:1002\nRUN id > /out/numeric\nUSER app\nRUN id > /out/named\n',
  ],
  [
    'cache mount leaves its mount point',
    'FROM bb:1\nRUN --mount=type=cache,target=/cache true\nRUN --mount=type=cache,target=/var/cache/deep/x,id=x touch /var/cache/deep/x/f\n',
  ],
];

function materialize(dir: string, extra: Record<string, string> = {}): void {
  for (const [p, c] of Object.entries({ ...FILES, ...extra })) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  if ('files.tar' in extra) spawnSync('tar', ['-cf', join(dir, 'files.tar'), '-C', dir, 'dir', 'a.txt']);
}

function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, p));
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : 'o';
      out.push(
        `${p} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${type === 'f' ? ` ${st.size}` : ''}${type === 'l' ? ` -> ${readlinkSync(join(root, p))}` : ''}`,
      );
      if (type === 'd') walk(p);
    }
  };
  walk('');
  return out;
}

function flatten(image: string, dest: string): string[] {
  const name = `flat-${Math.random().toString(36).slice(2, 10)}`;
  assert.equal(t.run(['create', '--name', name, '--network', 'none', image, 'true']).code, 0);
  mkdirSync(dest, { recursive: true });
  const cp = t.run(['cp', `${name}:/.`, dest]);
  assert.equal(cp.code, 0, cp.stderr);
  t.run(['rm', name]);
  return tree(dest);
}

const CONFIG_FIELDS =
  '{{json .Config.Env}}|{{json .Config.Cmd}}|{{json .Config.Entrypoint}}|{{json .Config.WorkingDir}}|{{json .Config.User}}|{{json .Config.ExposedPorts}}|{{json .Config.Volumes}}|{{json .Config.Labels}}|{{json .Config.StopSignal}}|{{json .Config.Healthcheck}}|{{json .Config.OnBuild}}';

describe('build: berth matches docker BuildKit', () => {
  for (const [i, [name, dockerfile, extra]] of cases.entries()) {
    it(name, () => {
      const ctx = join(work, `case${i}`);
      materialize(ctx, extra);
      writeFileSync(join(ctx, 'Dockerfile'), dockerfile.replace('FROM 0\n', ''));
      const tag = `diff${i}:1`;
      const d = dockerBuildKit(['build', '--network', 'none', '-t', tag, ctx]);
      assert.equal(d.code, 0, d.stderr);
      const b = t.run(['build', '--network', 'none', '-t', tag, ctx]);
      assert.equal(b.code, 0, b.stderr);
      const saved = dockerBuildKit(['save', tag]);
      const loaded = t.run(['load'], { input: saved.raw });
      assert.equal(loaded.code, 0, loaded.stderr);
      // `load` took the docker image's name: re-tag both apart.
      assert.equal(t.run(['tag', tag, `docker-${tag}`]).code, 0);
      assert.equal(t.run(['build', '-q', '--network', 'none', '-t', tag, ctx]).code, 0);
      const want = dockerBuildKit(['inspect', '-f', CONFIG_FIELDS, tag]).stdout;
      const got = t.run(['inspect', '-f', CONFIG_FIELDS, tag]).stdout;
      assert.equal(got, want, 'image config differs');
      assert.deepEqual(flatten(tag, join(work, `b${i}`)), flatten(`docker-${tag}`, join(work, `d${i}`)), 'file tree differs');
    });
  }
  it(`has at least 20 Dockerfiles (${cases.length})`, () => assert.ok(cases.length >= 20));

  it('proxy build args (no ARG declares them) reach RUN, but neither its cache key nor the history', () => {
    const ctx = join(work, 'proxy');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM bb:1\nRUN echo "$HTTP_PROXY $https_proxy $no_proxy" > /seen\n');
    const first = ['--build-arg', 'HTTP_PROXY=http://a:1', '--build-arg', 'https_proxy=http://s:1', '--build-arg', 'no_proxy=x'];
    const second = ['--build-arg', 'HTTP_PROXY=http://b:2', '--build-arg', 'https_proxy=http://s:2'];
    const layers = '{{json .RootFS.Layers}}';
    const engines = {
      docker: (args: string[]) => dockerBuildKit(args),
      berth: (args: string[]) => t.run(args),
    };
    for (const [name, run] of Object.entries(engines)) {
      for (const [tag, args] of [
        [`${name}-proxy:1`, first],
        [`${name}-proxy:2`, second],
      ] as const) {
        const r = run(['build', '--network', 'none', ...args, '-t', tag, ctx]);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      }
      assert.equal(
        run(['inspect', '-f', layers, `${name}-proxy:2`]).stdout,
        run(['inspect', '-f', layers, `${name}-proxy:1`]).stdout,
        `${name}: the proxy changed the cache key`,
      );
      const history = run(['history', '--no-trunc', '--format', '{{.CreatedBy}}', `${name}-proxy:1`]).stdout;
      assert.doesNotMatch(history, /a:1|s:1|no_proxy=/, `${name}: a proxy value is in the history`);
    }
    const saved = dockerBuildKit(['save', 'docker-proxy:1']);
    assert.equal(t.run(['load'], { input: saved.raw }).code, 0);
    assert.deepEqual(flatten('berth-proxy:1', join(work, 'proxy-b')), flatten('docker-proxy:1', join(work, 'proxy-d')), 'file tree differs');
  });
});
