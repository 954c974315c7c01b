/**
 * The run flags of issue 22 on real runc: each is checked inside the container (its /etc
 * files, /proc, mounts) or in what berth prints, and each has its bad values refused with
 * docker's words before anything is made.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BERTH } from '../helpers/berth.ts';
import { busyboxRoot } from '../helpers/busybox.ts';
import { startRegistry } from '../helpers/registry.ts';

const t = busyboxRoot('berth-runflags-');
const HOST_HAS_ALL_CAPS = /CapBnd:\s+0*1ffffffffff\n/.test(readFileSync('/proc/self/status', 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'berth-runflags-work-'));
after(() => rmSync(work, { recursive: true, force: true }));

function ok(args: string[], opts?: { input?: string | Buffer }): string {
  const r = t.run(args, opts);
  assert.equal(r.code, 0, `berth ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

/** Fails with `message`: exit 125 for create and run, as docker; another verb's engine errors exit non-zero (docker's 1). */
function refused(args: string[], message: RegExp): void {
  const r = t.run(args);
  if (args[0] === 'create' || args[0] === 'run') assert.equal(r.code, 125, `berth ${args.join(' ')} should fail\n${r.stdout}${r.stderr}`);
  else assert.notEqual(r.code, 0, `berth ${args.join(' ')} should fail\n${r.stdout}`);
  assert.match(r.stderr, message);
}

/** The parts of docker's inspect JSON these tests read. */
interface Inspected {
  Config: { ExposedPorts: Record<string, unknown>; Labels: Record<string, string> };
  HostConfig: {
    ExtraHosts: string[] | null;
    Dns: string[];
    DnsSearch: string[];
    DnsOptions: string[];
    PublishAllPorts: boolean;
    LogConfig: { Type: string };
    OomScoreAdj: number;
  };
  NetworkSettings: { Ports: Record<string, Array<{ HostPort: string }> | null> };
  State: { ExitCode: number; Running: boolean };
  LogPath: string;
}

function inspect(name: string): Inspected {
  return (JSON.parse(ok(['inspect', name])) as Inspected[])[0]!;
}

describe('run flags: /etc/hosts and /etc/resolv.conf', () => {
  it('--add-host adds lines after the loopback names; NAME=IP and bracketed IPv6 too; host-gateway is the bridge gateway', () => {
    const hosts = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--add-host',
      'a:1.2.3.4',
      '--add-host',
      'b=5.6.7.8',
      '--add-host',
      'six:[2001:db8::1]',
      '--add-host',
      'gw:host-gateway',
      'bb:1',
      'cat',
      '/etc/hosts',
    ]);
    const lines = hosts.trim().split('\n');
    assert.equal(lines[0], '127.0.0.1\tlocalhost');
    assert.deepEqual(lines.slice(-4), ['1.2.3.4\ta', '5.6.7.8\tb', '2001:db8::1\tsix', '10.87.0.1\tgw']);
  });

  it('--add-host on the host network appends to the host file', () => {
    const hosts = ok(['run', '--rm', '--network', 'host', '--add-host', 'extra.example:9.8.7.6', 'bb:1', 'cat', '/etc/hosts']);
    assert.match(hosts, /9\.8\.7\.6\textra\.example\n$/);
  });

  it('--dns, --dns-search and --dns-option write resolv.conf as docker does', () => {
    const resolv = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--dns',
      '9.9.9.9',
      '--dns',
      '2001:4860:4860::8888',
      '--dns-search',
      'example.com',
      '--dns-search',
      'corp.example',
      '--dns-option',
      'ndots:2',
      '--dns-option',
      'timeout:1',
      'bb:1',
      'cat',
      '/etc/resolv.conf',
    ]);
    assert.equal(resolv, 'search example.com corp.example\nnameserver 9.9.9.9\nnameserver 2001:4860:4860::8888\noptions ndots:2 timeout:1\n');
  });

  it('inspect shows them in HostConfig', () => {
    ok(['create', '--name', 'dnsinsp', '--network', 'none', '--add-host', 'a:1.2.3.4', '--dns', '1.1.1.1', '--dns-search', 'x.example', 'bb:1', 'true']);
    const hc = inspect('dnsinsp').HostConfig;
    assert.deepEqual([hc.ExtraHosts, hc.Dns, hc.DnsSearch, hc.DnsOptions], [['a:1.2.3.4'], ['1.1.1.1'], ['x.example'], []]);
    ok(['rm', 'dnsinsp']);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['add-host without an address', ['--add-host', 'bad'], /invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"/],
    ['add-host without a name', ['--add-host', ':1.2.3.4'], /bad format for add-host/],
    ['add-host with a name that is not an address', ['--add-host', 'a:notanip'], /invalid IP address in add-host: "notanip"/],
    ['add-host with a newline', ['--add-host', 'a:1.2.3.4\nevil 6.6.6.6'], /invalid IP address in add-host/],
    ['dns that is not an IP', ['--dns', 'dns.example'], /invalid argument "dns.example" for "--dns" flag: dns.example is not an ip address/],
    ['dns-search that is not a domain', ['--dns-search', '-bad-.example'], /-bad-.example is not a valid domain/],
  ];
  for (const [name, flags, message] of bad) {
    it(`refuses ${name}, and makes no container`, () => {
      const before = ok(['ps', '-aq']);
      refused(['run', '--rm', '--network', 'none', ...flags, 'bb:1', 'true'], message);
      assert.equal(ok(['ps', '-aq']), before);
    });
  }
});

describe('run flags: ports, labels, cidfile', () => {
  it('--expose adds exposed ports (ranges expanded); -P publishes each to a random host port', () => {
    const id = ok(['run', '-d', '-P', '--expose', '7000-7001', '--expose', '53/udp', 'bb:1', 'sleep', '30']).trim();
    try {
      const v = inspect(id);
      assert.deepEqual(Object.keys(v.Config.ExposedPorts).sort(), ['53/udp', '7000/tcp', '7001/tcp']);
      assert.equal(v.HostConfig.PublishAllPorts, true);
      for (const p of ['7000/tcp', '7001/tcp', '53/udp']) {
        const port = Number(v.NetworkSettings.Ports[p]?.[0]?.HostPort);
        assert.ok(port > 0 && port < 65536, `${p} is published: ${JSON.stringify(v.NetworkSettings.Ports)}`);
      }
    } finally {
      ok(['rm', '-f', id]);
    }
  });

  it('--expose refuses a host part and a bad range', () => {
    refused(['create', '--expose', '80:80', 'bb:1'], /invalid port format for --expose: 80:80/);
    refused(['create', '--expose', '90-80', 'bb:1'], /invalid range format for --expose: 90-80/);
  });

  it('--label-file reads labels as env files are read; -l wins over the file', () => {
    const file = join(work, 'labels');
    writeFileSync(file, '# a comment\nteam=ml\n\nbare\nowner=file\n');
    ok(['create', '--name', 'lbl', '--label-file', file, '-l', 'owner=flag', 'bb:1', 'true']);
    const labels = inspect('lbl').Config.Labels;
    assert.deepEqual([labels.team, labels.bare, labels.owner], ['ml', '', 'flag']);
    ok(['rm', 'lbl']);
    refused(['create', '--label-file', join(work, 'missing'), 'bb:1', 'true'], /open .*missing: no such file or directory/);
  });

  it('--cidfile gets the id; an existing file and a missing dir are refused; a failed create leaves no file', () => {
    const cid = join(work, 'cid');
    const id = ok(['create', '--cidfile', cid, 'bb:1', 'true']).trim();
    assert.equal(readFileSync(cid, 'utf8'), id);
    refused(['create', '--cidfile', cid, 'bb:1', 'true'], /container ID file found, make sure the other container isn't running or delete/);
    ok(['rm', id]);
    refused(
      ['create', '--cidfile', join(work, 'no', 'such', 'dir', 'cid'), 'bb:1', 'true'],
      /failed to create the container ID file: open .*: no such file or directory/,
    );
    const failed = join(work, 'cid-failed');
    refused(['create', '--cidfile', failed, '--pull', 'never', 'no-such-image:1', 'true'], /no-such-image/);
    assert.equal(existsSync(failed), false);
  });
});

describe('run flags: logging', () => {
  it('--log-driver none: output is shown but not kept, and logs says so', () => {
    const r = t.run(['run', '--name', 'nolog', '--log-driver', 'none', 'bb:1', 'echo', 'shown']);
    assert.equal(r.stdout, 'shown\n');
    assert.equal(r.code, 0, r.stderr);
    refused(['logs', 'nolog'], /configured logging driver does not support reading/);
    assert.equal(inspect('nolog').HostConfig.LogConfig.Type, 'none');
    assert.equal(existsSync(inspect('nolog').LogPath), false);
    ok(['rm', 'nolog']);
  });

  it('json-file rotation: max-size and max-file keep the newest lines, and logs reads the rotated files in order', () => {
    const id = ok([
      'run',
      '-d',
      '--network',
      'none',
      '--log-opt',
      'max-size=400',
      '--log-opt',
      'max-file=3',
      'bb:1',
      'sh',
      '-c',
      'for i in $(seq 1 60); do echo line$i; done',
    ]).trim();
    ok(['wait', id]);
    const logPath = inspect(id).LogPath;
    const dir = join(logPath, '..');
    const files = readdirSync(dir).filter((f) => f.startsWith(`${id}-json.log`));
    assert.deepEqual(files.sort(), [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    const lines = ok(['logs', id]).trim().split('\n');
    assert.ok(lines.length > 3 && lines.length < 60, `kept ${lines.length} lines`);
    assert.equal(lines.at(-1), 'line60');
    const first = Number(lines[0]!.slice(4));
    assert.deepEqual(
      lines,
      Array.from({ length: lines.length }, (_, i) => `line${first + i}`),
    );
    ok(['rm', id]);
  });

  const absurd: Array<[string, string[], RegExp]> = [
    ['max-file 0', ['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
    ['max-file not a number', ['--log-opt', 'max-file=lots'], /invalid syntax/],
    ['max-file in the millions', ['--log-opt', 'max-size=1k', '--log-opt', 'max-file=9999999'], /max-file 9999999 is more than berth keeps/],
    ['max-size not a size', ['--log-opt', 'max-size=huge'], /invalid size: 'huge'/],
    ['an unknown option', ['--log-opt', 'colour=blue'], /unknown log opt 'colour' for json-file log driver/],
    ['an option without a value', ['--log-opt', 'max-size'], /invalid key value pair format in log-opt/],
    ['an unknown driver', ['--log-driver', 'carrier-pigeon'], /logger: no log driver named 'carrier-pigeon' is registered/],
    ['a driver berth does not have', ['--log-driver', 'syslog'], /syslog logging driver is not supported by berth yet/],
    ['options for the none driver', ['--log-driver', 'none', '--log-opt', 'max-size=1m'], /invalid logging opts for driver none/],
  ];
  for (const [name, flags, message] of absurd) {
    it(`refuses ${name}`, () => refused(['create', ...flags, 'bb:1', 'true'], message));
  }

  it('logs --details shows the labels and env the log options name; --since/--until filter by time', () => {
    const id = ok([
      'run',
      '-d',
      '--network',
      'none',
      '-l',
      'team=ml',
      '-e',
      'MODEL=bert base',
      '--log-opt',
      'labels=team',
      '--log-opt',
      'env=MODEL',
      'bb:1',
      'sh',
      '-c',
      'echo one; echo two',
    ]).trim();
    ok(['wait', id]);
    assert.equal(ok(['logs', '--details', id]), 'MODEL=bert+base,team=ml one\nMODEL=bert+base,team=ml two\n');
    assert.equal(ok(['logs', '--since', '10m', id]), 'one\ntwo\n');
    assert.equal(ok(['logs', '--until', '10m', id]), '');
    assert.equal(ok(['logs', '--since', `${Math.floor(Date.now() / 1000) + 3600}`, id]), '');
    assert.equal(ok(['logs', '--since', '2000-01-01T00:00:00Z', '--until', '2100-01-01', id]), 'one\ntwo\n');
    assert.match(ok(['logs', '-t', '--details', '--tail', '1', id]), /^\d{4}-\d\d-\d\dT[\d:.]+Z MODEL=bert\+base,team=ml two\n$/);
    refused(['logs', '--since', 'yesterday', id], /invalid value for "since": failed to parse value as time or duration: "yesterday"/);
    ok(['rm', id]);
  });
});

describe('run flags: mounts', () => {
  it('--volumes-from takes the mounts of another container, read-only with :ro', () => {
    ok(['run', '--name', 'datasrc', '--network', 'none', '-v', '/data', 'bb:1', 'sh', '-c', 'echo kept > /data/f']);
    assert.equal(ok(['run', '--rm', '--network', 'none', '--volumes-from', 'datasrc', 'bb:1', 'cat', '/data/f']), 'kept\n');
    assert.equal(ok(['run', '--rm', '--network', 'none', '--volumes-from', 'datasrc:ro', 'bb:1', 'sh', '-c', 'touch /data/g 2>/dev/null; echo $?']), '1\n');
    refused(['create', '--volumes-from', 'no-such-container', 'bb:1', 'true'], /No such container: no-such-container/);
    refused(['create', '--volumes-from', 'datasrc:rx', 'bb:1', 'true'], /invalid mode: rx/);
    ok(['rm', '-v', 'datasrc']);
  });

  it('-v ./rel:/x is a bind of the path under the working dir', () => {
    mkdirSync(join(work, 'rel'), { recursive: true });
    writeFileSync(join(work, 'rel', 'hello'), 'from the host\n');
    const r = spawnSync(BERTH, ['--root', t.root, 'run', '--rm', '--network', 'none', '-v', './rel:/x:ro', 'bb:1', 'cat', '/x/hello'], { cwd: work });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'from the host\n');
  });

  it('-v options: z and Z are accepted, nocopy leaves a new volume empty', () => {
    assert.equal(ok(['run', '--rm', '--network', 'none', '-v', 'zvol:/d:z', '-v', 'Zvol:/e:Z', 'bb:1', 'true']), '');
    const copied = ok(['run', '--rm', '--network', 'none', '-v', 'withcopy:/bin', 'bb:1', 'ls', '/bin/sh']);
    assert.equal(copied, '/bin/sh\n');
    // /bin/sh itself would be hidden by an empty volume: look through another dir of the image instead.
    const empty = ok(['run', '--rm', '--network', 'none', '-v', 'nocopyvol:/etc:nocopy', 'bb:1', 'sh', '-c', 'ls /etc/passwd 2>/dev/null | wc -l']);
    assert.equal(empty, '0\n');
    refused(['run', '--rm', '-v', 'v:/d:bogus', 'bb:1', 'true'], /invalid mode: bogus/);
    for (const v of ['zvol', 'Zvol', 'withcopy', 'nocopyvol']) ok(['volume', 'rm', v]);
  });
});

describe('run flags: streams and the process', () => {
  it('-a stdout shows only stdout; -a is refused with -d and for an unknown stream', () => {
    const r = t.run(['run', '--rm', '--network', 'none', '-a', 'stdout', 'bb:1', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'out\n');
    assert.doesNotMatch(r.stderr, /err/);
    const e = t.run(['run', '--rm', '--network', 'none', '-a', 'STDERR', 'bb:1', 'sh', '-c', 'echo out; echo err >&2']);
    assert.equal(e.stdout, '');
    assert.equal(e.stderr, 'err\n');
    // The docker CLI's own check: exit 1, not the engine's 125.
    const both = t.run(['run', '-d', '-a', 'stdout', 'bb:1', 'true']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /Conflicting options: -a and -d/);
    refused(['run', '-a', 'stdlog', 'bb:1', 'true'], /valid streams are STDIN, STDOUT and STDERR/);
  });

  it('-a stdin with -i passes the input', () => {
    assert.equal(ok(['run', '--rm', '-i', '--network', 'none', '-a', 'stdin', '-a', 'stdout', 'bb:1', 'cat'], { input: 'piped\n' }), 'piped\n');
  });

  it('--oom-score-adj sets the process score; out of range is refused', () => {
    assert.equal(ok(['run', '--rm', '--network', 'none', '--oom-score-adj', '500', 'bb:1', 'cat', '/proc/self/oom_score_adj']), '500\n');
    assert.equal(inspect(ok(['create', '--oom-score-adj', '-200', 'bb:1', 'true']).trim()).HostConfig.OomScoreAdj, -200);
    refused(['create', '--oom-score-adj', '1001', 'bb:1'], /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
    refused(['create', '--oom-score-adj', 'high', 'bb:1'], /invalid argument "high" for "--oom-score-adj" flag/);
  });

  it('--quiet prints nothing of a pull, where a run without it says what it pulled', async () => {
    const registry = await startRegistry();
    try {
      const ref = `${registry.host}/quiet/bb:1`;
      ok(['tag', 'bb:1', ref]);
      ok(['push', ref]);
      ok(['rmi', ref]);
      const quiet = t.run(['run', '--rm', '-q', '--network', 'none', ref, 'echo', 'quiet']);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stdout, 'quiet\n');
      assert.equal(quiet.stderr, '');
      ok(['rmi', ref]);
      const loud = t.run(['run', '--rm', '--network', 'none', ref, 'echo', 'loud']);
      assert.equal(loud.code, 0, loud.stderr);
      assert.match(loud.stderr, /Unable to find image '.*quiet\/bb:1' locally/);
    } finally {
      registry.stop();
    }
  });

  it('--stop-signal and --stop-timeout are what stop uses; a bad signal is refused at create', () => {
    const script = 'trap "echo got-usr1; exit 7" USR1; trap "" TERM; while true; do sleep 0.1; done';
    const id = ok(['run', '-d', '--network', 'none', '--stop-signal', 'SIGUSR1', 'bb:1', 'sh', '-c', script]).trim();
    ok(['stop', id]);
    assert.equal(inspect(id).State.ExitCode, 7);
    assert.equal(ok(['logs', id]), 'got-usr1\n');
    ok(['rm', id]);
    const slow = ok(['run', '-d', '--network', 'none', '--stop-timeout', '1', 'bb:1', 'sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']).trim();
    const started = Date.now();
    ok(['stop', slow]);
    assert.ok(Date.now() - started < 8000, 'stopped after the 1 s timeout, not the default 10 s');
    assert.equal(inspect(slow).State.ExitCode, 137);
    ok(['rm', slow]);
    refused(['create', '--stop-signal', 'SIGNOPE', 'bb:1'], /Invalid signal: SIGNOPE/);
  });

  it('--group-add adds groups by id and by name; --platform and --pull never work on a local image', () => {
    assert.match(ok(['run', '--rm', '--network', 'none', '--group-add', '4242', '--group-add', 'staff', 'bb:1', 'id']), /groups=.*4242/);
    assert.equal(ok(['run', '--rm', '--network', 'none', '--pull', 'never', '--platform', 'linux/amd64', 'bb:1', 'echo', 'ok']), 'ok\n');
    refused(['run', '--rm', '--pull', 'never', 'never-pulled:1', 'true'], /never-pulled/);
  });
});

describe('stop, restart, exec flags', () => {
  it('stop -s sends that signal; -t waits that long; bad values are refused', () => {
    const id = ok(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'trap "exit 5" HUP; trap "" TERM; while true; do sleep 0.1; done']).trim();
    ok(['stop', '-s', 'HUP', id]);
    assert.equal(inspect(id).State.ExitCode, 5);
    ok(['start', id]);
    const started = Date.now();
    ok(['stop', '--timeout', '1', id]);
    assert.ok(Date.now() - started < 8000);
    assert.equal(inspect(id).State.ExitCode, 137);
    ok(['start', id]);
    ok(['restart', '-t', '0', '-s', 'HUP', id]);
    assert.equal(inspect(id).State.Running, true);
    refused(['stop', '-t', 'soon', id], /invalid argument "soon" for "-t, --timeout" flag: strconv.ParseInt/);
    refused(['stop', '-s', 'SIGNOPE', id], /Invalid signal: SIGNOPE/);
    refused(['restart', '--time', 'x', id], /invalid argument "x" for "--time" flag/);
    ok(['rm', '-f', id]);
  });

  it('exec --env-file, -e, -w, -u, --privileged, --detach-keys', () => {
    const id = ok(['run', '-d', '--network', 'none', 'bb:1', 'sleep', '60']).trim();
    try {
      const envFile = join(work, 'exec.env');
      writeFileSync(envFile, '# comment\nFROM_FILE=yes\nBOTH=file\n');
      assert.equal(ok(['exec', '--env-file', envFile, '-e', 'BOTH=flag', id, 'sh', '-c', 'echo $FROM_FILE $BOTH']), 'yes flag\n');
      assert.equal(ok(['exec', '-w', '/tmp', '-u', '1000:1000', id, 'sh', '-c', 'pwd; id -u']), '/tmp\n1000\n');
      // --privileged gives every capability, which runc can only give on a host whose own bounding set has them all.
      if (HOST_HAS_ALL_CAPS) assert.match(ok(['exec', '--privileged', id, 'grep', 'CapEff', '/proc/self/status']), /CapEff:\s+0*1ffffffffff\n/);
      assert.equal(ok(['exec', '--detach-keys', 'ctrl-x,x', id, 'echo', 'keys']), 'keys\n');
      refused(['exec', '--detach-keys', 'ctrl-', id, 'true'], /invalid detach keys/);
      refused(['exec', '--env-file', join(work, 'none.env'), id, 'true'], /no such file or directory/);
    } finally {
      ok(['rm', '-f', id]);
    }
  });
});

/** A tar with hostile entries, made by Python's tarfile (GNU tar refuses to write some of them). */
function hostileTar(escapeDir: string): Buffer {
  const py = `
import io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tf:
    def add(name, data=b'x', kind=tarfile.REGTYPE, link=''):
        ti = tarfile.TarInfo(name); ti.type = kind; ti.linkname = link; ti.size = len(data) if kind == tarfile.REGTYPE else 0
        tf.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    add('ok.txt', b'fine\\n')
    add('../../../../../../${escapeDir.slice(1)}/dotdot.txt')
    add('out', kind=tarfile.SYMTYPE, link='${escapeDir}')
    add('out/through-link.txt')
    add('hard', kind=tarfile.LNKTYPE, link='../../../../../etc/passwd')
sys.stdout.buffer.write(buf.getvalue())
`;
  return execFileSync('python3', ['-c', py]);
}

describe('cp to and from -', () => {
  it('cp CTR:/path - writes a tar; cp - CTR:/dir extracts one', () => {
    const id = ok(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'mkdir -p /srv/d && echo inside > /srv/d/f && sleep 60']).trim();
    try {
      const tar = spawnSync(BERTH, ['--root', t.root, 'cp', `${id}:/srv/d`, '-']);
      assert.equal(tar.status, 0, tar.stderr.toString());
      const listed = execFileSync('tar', ['-tvf', '-'], { input: tar.stdout }).toString();
      assert.match(listed, /d\/f/);
      const made = execFileSync('sh', ['-c', `mkdir -p ${work}/tin && echo "from stdin" > ${work}/tin/new.txt && tar -C ${work}/tin -cf - new.txt`]);
      const r = t.run(['cp', '-', `${id}:/srv`], { input: made });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(ok(['exec', id, 'cat', '/srv/new.txt']), 'from stdin\n');
      refused(['cp', '-', `${id}:/srv/d/f`], /extraction point is not a directory/);
      refused(['cp', '-', '-'], /must specify at least one container source/);
    } finally {
      ok(['rm', '-f', id]);
    }
  });

  it('cp - with ../ entries, a symlink out and a hard link out writes nothing outside the container', () => {
    const escapeDir = mkdtempSync(join(tmpdir(), 'berth-cp-escape-'));
    const id = ok(['run', '-d', '--network', 'none', 'bb:1', 'sh', '-c', 'mkdir -p /in && sleep 60']).trim();
    try {
      const r = t.run(['cp', '-', `${id}:/in`], { input: hostileTar(escapeDir) });
      assert.deepEqual(readdirSync(escapeDir), [], `nothing lands in ${escapeDir}: ${r.stderr}`);
      assert.notEqual(readFileSync('/etc/passwd', 'utf8').length, 0);
      if (r.code === 0) assert.equal(ok(['exec', id, 'cat', '/in/ok.txt']), 'fine\n');
      else assert.match(r.stderr, /unsafe|escape|outside|link/i);
    } finally {
      ok(['rm', '-f', id]);
      rmSync(escapeDir, { recursive: true, force: true });
    }
  });
});
