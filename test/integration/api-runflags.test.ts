/**
 * The run flags through `berth serve`: docker CLI 28 sends them as HostConfig fields
 * (ExtraHosts, Dns, DnsSearch, DnsOptions, PublishAllPorts, ExposedPorts, LogConfig,
 * VolumesFrom, OomScoreAdj), which create-body.ts maps onto the same options as berth's CLI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServeHandle, startServe } from '../helpers/api-server.ts';

describe('run flags through berth serve and the docker CLI', () => {
  let s: ServeHandle;
  const ok = (args: string[]): string => {
    const r = s.docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}\n${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    s = await startServe({ busybox: true });
  });
  after(async () => {
    await s?.stop();
  });

  test('--add-host, --dns, --dns-search and --dns-option reach /etc/hosts and /etc/resolv.conf', () => {
    const out = ok([
      'run',
      '--rm',
      '--network',
      'none',
      '--add-host',
      'a=1.2.3.4',
      '--add-host',
      'gw:host-gateway',
      '--dns',
      '9.9.9.9',
      '--dns-search',
      'example.com',
      '--dns-option',
      'ndots:3',
      'bb:1',
      'sh',
      '-c',
      'cat /etc/hosts /etc/resolv.conf',
    ]);
    assert.match(out, /^1\.2\.3\.4\ta$/m);
    assert.match(out, /^10\.87\.0\.1\tgw$/m);
    assert.match(out, /search example\.com\nnameserver 9\.9\.9\.9\noptions ndots:3\n$/);
  });

  test('--oom-score-adj is the process score; out of range is refused', () => {
    assert.equal(ok(['run', '--rm', '--network', 'none', '--oom-score-adj', '321', 'bb:1', 'cat', '/proc/self/oom_score_adj']), '321\n');
    const r = s.docker(['run', '--rm', '--network', 'none', '--oom-score-adj', '5000', 'bb:1', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /range for oom score adj is \[-1000, 1000\]/);
  });

  test('--volumes-from mounts the volumes of another container', () => {
    ok(['run', '--name', 'apisrc', '--network', 'none', '-v', '/data', 'bb:1', 'sh', '-c', 'echo via-api > /data/f']);
    assert.equal(ok(['run', '--rm', '--network', 'none', '--volumes-from', 'apisrc:ro', 'bb:1', 'cat', '/data/f']), 'via-api\n');
    ok(['rm', '-v', 'apisrc']);
  });

  test('-P publishes the --expose ports; inspect shows PublishAllPorts', () => {
    const id = ok(['run', '-d', '-P', '--expose', '8080', 'bb:1', 'sleep', '30']).trim();
    try {
      const v = JSON.parse(ok(['inspect', id]))[0] as {
        HostConfig: { PublishAllPorts: boolean };
        NetworkSettings: { Ports: Record<string, Array<{ HostPort: string }> | null> };
      };
      assert.equal(v.HostConfig.PublishAllPorts, true);
      assert.ok(Number(v.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort) > 0, JSON.stringify(v.NetworkSettings.Ports));
    } finally {
      ok(['rm', '-f', id]);
    }
  });

  test('--log-driver none keeps no log; --log-opt is checked', () => {
    const id = ok(['create', '--log-driver', 'none', 'bb:1', 'echo', 'gone']).trim();
    ok(['start', '-a', id]);
    const r = s.docker(['logs', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    ok(['rm', id]);
    const bad = s.docker(['run', '--rm', '--log-opt', 'max-file=0', 'bb:1', 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /max-file cannot be less than 1/);
    const rotated = ok([
      'create',
      '--log-opt',
      'max-size=1k',
      '--log-opt',
      'max-file=2',
      '-l',
      'team=ml',
      '--log-opt',
      'labels=team',
      'bb:1',
      'echo',
      'kept',
    ]).trim();
    assert.equal(ok(['inspect', '-f', '{{.HostConfig.LogConfig.Type}}', rotated]), 'json-file\n');
    ok(['start', '-a', rotated]);
    assert.equal(ok(['logs', '--details', rotated]), 'team=ml kept\n');
    assert.equal(ok(['logs', '--until', '1h', rotated]), '');
    ok(['rm', rotated]);
  });
});
