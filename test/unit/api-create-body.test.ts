/** `POST /containers/create`'s body mapped onto CreateOptions: docker's fields in, the CLI's specs out. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mapCreateBody } from '../../src/api/create-body.ts';
import { toCreateOptions, type CreateFlags } from '../../src/cli/run-options.ts';
import type { CreateOptions } from '../../src/services/containers.ts';

type Expect = Partial<Omit<CreateOptions, 'runtime'>> & { runtime?: Record<string, unknown> };

const CASES: Array<{ name: string; body: Record<string, unknown>; query?: { name?: string; platform?: string }; want: Expect; warnings?: RegExp }> = [
  {
    name: 'the CLI 28 run body: image as typed, command, defaults',
    body: {
      Image: 'bb:1',
      Cmd: ['echo', 'hi'],
      Env: null,
      Entrypoint: null,
      Labels: {},
      HostConfig: { Binds: null, AutoRemove: true, NetworkMode: 'default', PortBindings: {}, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
      NetworkingConfig: { EndpointsConfig: { default: { Aliases: null } } },
    },
    want: { image: 'bb:1', command: ['echo', 'hi'], autoRemove: true, network: 'bridge', publish: [], volumes: [], env: [], pull: 'never' },
  },
  {
    name: 'name and platform come from the query only',
    body: { Image: 'bb:1', name: 'ignored' },
    query: { name: 'c1', platform: 'linux/arm64' },
    want: { name: 'c1', platform: 'linux/arm64' },
  },
  { name: 'Cmd as a plain string is one word', body: { Image: 'bb:1', Cmd: 'true' }, want: { command: ['true'] } },
  { name: 'Entrypoint of one word', body: { Image: 'bb:1', Entrypoint: ['sh'], Cmd: ['-c', 'x'] }, want: { entrypoint: 'sh', command: ['-c', 'x'] } },
  {
    name: 'a longer Entrypoint leads the command',
    body: { Image: 'bb:1', Entrypoint: ['sh', '-c'], Cmd: ['echo x'] },
    want: { entrypoint: 'sh', command: ['-c', 'echo x'] },
  },
  { name: 'Entrypoint [""] resets the image entrypoint', body: { Image: 'bb:1', Entrypoint: [''] }, want: { entrypoint: '' } },
  {
    name: 'user, workdir, hostname, env, labels, tty and stdin',
    body: { Image: 'bb:1', User: '0', WorkingDir: '/w', Hostname: 'hh', Env: ['A=1'], Labels: { k: 'v' }, Tty: true, OpenStdin: true },
    want: { user: '0', workdir: '/w', hostname: 'hh', env: ['A=1'], labels: { k: 'v' }, tty: true, interactive: true },
  },
  {
    name: 'empty strings are unset',
    body: { Image: 'bb:1', User: '', WorkingDir: '', Hostname: '' },
    want: { user: undefined, workdir: undefined, hostname: undefined },
  },
  {
    name: 'port bindings: fixed, random ("0" and ""), host IP, udp',
    body: {
      Image: 'bb:1',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: {
          '80/tcp': [{ HostIp: '', HostPort: '8080' }],
          '81/tcp': [{ HostIp: '', HostPort: '0' }],
          '82/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '53/udp': [{ HostIp: '::1', HostPort: '5353' }],
        },
      },
    },
    want: { publish: ['8080:80/tcp', '81/tcp', '127.0.0.1::82/tcp', '[::1]:5353:53/udp'] },
  },
  {
    // create publishes the rest, the image's exposed ports among them (container/create-extras.ts).
    name: 'PublishAllPorts is passed on with the bindings and the exposed ports',
    body: { Image: 'bb:1', ExposedPorts: { '80/tcp': {}, '90': {} }, HostConfig: { PublishAllPorts: true, PortBindings: { '80/tcp': [{ HostPort: '1' }] } } },
    want: { publish: ['1:80/tcp'], publishAll: true },
  },
  {
    name: 'ExtraHosts, Dns, DnsSearch, DnsOptions, LogConfig, VolumesFrom, OomScoreAdj',
    body: {
      Image: 'bb:1',
      HostConfig: {
        ExtraHosts: ['a:1.2.3.4'],
        Dns: ['9.9.9.9'],
        DnsSearch: ['example.com'],
        DnsOptions: ['ndots:2'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
        VolumesFrom: ['data:ro'],
        OomScoreAdj: 500,
      },
    },
    want: {
      extraHosts: ['a:1.2.3.4'],
      dns: ['9.9.9.9'],
      dnsSearch: ['example.com'],
      dnsOptions: ['ndots:2'],
      logConfig: { type: 'json-file', config: { 'max-size': '1m' } },
      volumesFrom: ['data:ro'],
      runtime: { oomScoreAdj: 500 },
    },
  },
  {
    name: 'binds, mounts of three kinds, tmpfs, and Config.Volumes not already covered',
    body: {
      Image: 'bb:1',
      Volumes: { '/data': {}, '/cache': {}, '/t': {} },
      HostConfig: {
        Binds: ['/host:/data:ro', 'vol1:/v'],
        Mounts: [
          { Type: 'bind', Source: '/src,odd', Target: '/m1', ReadOnly: true },
          { Type: 'volume', Source: 'v2', Target: '/m2' },
          { Type: 'tmpfs', Target: '/m3', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
        ],
        Tmpfs: { '/t': 'size=1m', '/u': '' },
      },
    },
    want: {
      volumes: ['/host:/data:ro', 'vol1:/v', '/cache'],
      mounts: [
        'type=bind,"source=/src,odd",target=/m1,readonly',
        'type=volume,source=v2,target=/m2',
        'type=tmpfs,target=/m3,tmpfs-size=1048576,tmpfs-mode=1777',
      ],
      tmpfs: ['/t:size=1m', '/u'],
    },
  },
  { name: 'network mode "none"', body: { Image: 'bb:1', HostConfig: { NetworkMode: 'none' } }, want: { network: 'none' } },
  { name: 'network mode "host"', body: { Image: 'bb:1', HostConfig: { NetworkMode: 'host' } }, want: { network: 'host' } },
  {
    name: 'a user network with aliases (compose)',
    body: { Image: 'bb:1', HostConfig: { NetworkMode: 'proj_default' }, NetworkingConfig: { EndpointsConfig: { proj_default: { Aliases: ['web', 'abc'] } } } },
    want: { network: 'proj_default', networkAliases: ['web', 'abc'] },
  },
  {
    name: 'limits, caps, privileges, init, read-only, ulimits, stop signal and timeout',
    body: {
      Image: 'bb:1',
      StopSignal: 'SIGINT',
      StopTimeout: 3,
      HostConfig: {
        Memory: 64 << 20,
        MemorySwap: -1,
        NanoCpus: 1.5e9,
        PidsLimit: 50,
        ShmSize: 1 << 20,
        CapAdd: ['NET_ADMIN'],
        CapDrop: ['ALL'],
        Privileged: true,
        ReadonlyRootfs: true,
        Init: true,
        Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
        GroupAdd: ['10'],
        SecurityOpt: ['no-new-privileges'],
      },
    },
    want: {
      stopSignal: 'SIGINT',
      stopTimeout: 3,
      runtime: {
        memory: 64 << 20,
        memorySwap: -1,
        cpus: 1.5,
        pidsLimit: 50,
        shmSize: 1 << 20,
        capAdd: ['NET_ADMIN'],
        capDrop: ['ALL'],
        privileged: true,
        readOnly: true,
        init: true,
        ulimits: ['nofile=100:200'],
        groupAdd: ['10'],
        securityOpt: ['no-new-privileges'],
      },
    },
  },
  {
    name: 'CpuQuota and CpuPeriod are the CFS quota and period, as given',
    body: { Image: 'bb:1', HostConfig: { CpuQuota: 50000, CpuPeriod: 100000 } },
    want: { runtime: { cpus: undefined, cpuQuota: 50000, cpuPeriod: 100000 } },
  },
  {
    name: 'the host fields: IPC and PID modes, sysctls, ulimits, cpusets, shares, reservation, runtime',
    body: {
      Image: 'bb:1',
      HostConfig: {
        IpcMode: 'shareable',
        PidMode: 'host',
        Sysctls: { 'net.ipv4.ip_forward': '1' },
        Ulimits: [{ Name: 'memlock', Soft: -1, Hard: -1 }],
        CpusetCpus: '0',
        CpusetMems: '0',
        CpuShares: 512,
        MemoryReservation: 64 << 20,
        Runtime: '/usr/local/bin/gpu-runc',
      },
    },
    want: {
      runtime: {
        ipcMode: 'shareable',
        pidMode: 'host',
        sysctls: { 'net.ipv4.ip_forward': '1' },
        ulimits: ['memlock=-1:-1'],
        cpusetCpus: '0',
        cpusetMems: '0',
        cpuShares: 512,
        memoryReservation: 64 << 20,
        ociRuntime: '/usr/local/bin/gpu-runc',
      },
    },
  },
  {
    name: "IpcMode and PidMode '' are the container's own",
    body: { Image: 'bb:1', HostConfig: { IpcMode: '', PidMode: '', Runtime: 'runc' } },
    want: { runtime: { ipcMode: undefined, pidMode: undefined, ociRuntime: undefined } },
  },
  { name: 'PidsLimit 0 and -1 are unlimited', body: { Image: 'bb:1', HostConfig: { PidsLimit: -1 } }, want: { runtime: { pidsLimit: undefined } } },
  {
    name: 'host devices as --device specs',
    body: {
      Image: 'bb:1',
      HostConfig: { Devices: [{ PathOnHost: '/dev/fuse' }, { PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' }] },
    },
    want: { runtime: { devices: ['/dev/fuse:/dev/fuse:rwm', '/dev/null:/dev/n:r'] } },
  },
  { name: 'CpuShares is the relative CPU weight', body: { Image: 'bb:1', HostConfig: { CpuShares: 512 } }, want: { runtime: { cpuShares: 512 } } },
  {
    name: 'RestartPolicy is passed on as given (create checks it)',
    body: { Image: 'bb:1', HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } } },
    want: { restartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
  },
  {
    name: 'Healthcheck with docker zeros for what is unset',
    body: { Image: 'bb:1', Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: null } },
    want: { healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 0 } },
  },
  {
    name: 'RestartPolicy always',
    body: { Image: 'bb:1', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } },
    want: { restartPolicy: { Name: 'always', MaximumRetryCount: 0 } },
  },
];

const ERRORS: Array<{ name: string; body: unknown; code: string; message: RegExp }> = [
  { name: 'no body object', body: [], code: 'INVALID_ARGUMENT', message: /Config cannot be empty/ },
  { name: 'no image', body: { Cmd: ['true'] }, code: 'INVALID_ARGUMENT', message: /Image is required/ },
  { name: 'a field of the wrong type', body: { Image: 'bb:1', Env: 'A=1' }, code: 'INVALID_ARGUMENT', message: /Env/ },
  {
    name: "another container's network",
    body: { Image: 'bb:1', HostConfig: { NetworkMode: 'container:db' } },
    code: 'INVALID_ARGUMENT',
    message: /cannot join another container's network/,
  },
  {
    name: 'a bad port key',
    body: { Image: 'bb:1', HostConfig: { PortBindings: { 'http/tcp': [] } } },
    code: 'INVALID_ARGUMENT',
    message: /invalid port specification/,
  },
  {
    name: 'a mount of an unknown type',
    body: { Image: 'bb:1', HostConfig: { Mounts: [{ Type: 'npipe', Target: '/x' }] } },
    code: 'INVALID_ARGUMENT',
    message: /npipe/,
  },
  {
    name: 'an inline seccomp profile',
    body: { Image: 'bb:1', HostConfig: { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] } },
    code: 'UNSUPPORTED',
    message: /inline/,
  },
  {
    name: 'a Healthcheck interval that is not a number',
    body: { Image: 'bb:1', Healthcheck: { Interval: '5s' } },
    code: 'INVALID_ARGUMENT',
    message: /Healthcheck/,
  },
  { name: 'a bad security option', body: { Image: 'bb:1', HostConfig: { SecurityOpt: ['bogus=1'] } }, code: 'INVALID_ARGUMENT', message: /security-opt/ },
  { name: 'an unknown IpcMode', body: { Image: 'bb:1', HostConfig: { IpcMode: 'bogus' } }, code: 'INVALID_ARGUMENT', message: /Invalid IPC mode: bogus/ },
  { name: 'an unknown PidMode', body: { Image: 'bb:1', HostConfig: { PidMode: 'bogus' } }, code: 'INVALID_ARGUMENT', message: /invalid PID mode/ },
  {
    name: 'an unknown ulimit',
    body: { Image: 'bb:1', HostConfig: { Ulimits: [{ Name: 'as', Soft: 1, Hard: 1 }] } },
    code: 'INVALID_ARGUMENT',
    message: /invalid ulimit type: as/,
  },
  {
    name: 'a ulimit whose soft limit is above its hard one',
    body: { Image: 'bb:1', HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 5 }] } },
    code: 'INVALID_ARGUMENT',
    message: /soft limit must be less than or equal to hard limit: 10 > 5/,
  },
  {
    name: 'a sysctl outside the namespaced ones',
    body: { Image: 'bb:1', HostConfig: { Sysctls: { 'vm.swappiness': '1' } } },
    code: 'INVALID_ARGUMENT',
    message: /not allowed/,
  },
  { name: 'a non-integer CpuShares', body: { Image: 'bb:1', HostConfig: { CpuShares: 1.5 } }, code: 'INVALID_ARGUMENT', message: /CpuShares/ },
];

describe('mapCreateBody', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const { options, warnings } = mapCreateBody(c.body, c.query);
      const { runtime, ...rest } = c.want;
      for (const [k, v] of Object.entries(rest)) assert.deepEqual(options[k as keyof CreateOptions], v, k);
      for (const [k, v] of Object.entries(runtime ?? {})) assert.deepEqual(options.runtime[k], v, `runtime.${k}`);
      if (c.warnings) assert.match(warnings.join('\n'), c.warnings);
      else assert.deepEqual(warnings, []);
    });
  }
  for (const e of ERRORS) {
    test(`refuses ${e.name}`, () => {
      assert.throws(
        () => mapCreateBody(e.body),
        (err: Error & { code?: string }) => err.code === e.code && e.message.test(err.message),
      );
    });
  }

  test('gives the same options as `berth create` with the flags docker would have sent them from', () => {
    const flags: CreateFlags = {
      name: 'c1',
      env: ['A=1'],
      envFile: [],
      user: '1000',
      workdir: '/w',
      network: 'bridge',
      networkAlias: [],
      publish: ['8080:80/tcp'],
      volume: ['/h:/c:ro'],
      mount: [],
      tmpfs: ['/t'],
      rm: true,
      label: ['k=v'],
      capAdd: ['NET_ADMIN'],
      capDrop: [],
      securityOpt: [],
      ulimit: [],
      groupAdd: [],
      memory: '64m',
      cpus: '2',
      pull: 'never',
      restart: 'no',
    };
    const cli = toCreateOptions('bb:1', ['sleep', '1'], flags);
    const { options } = mapCreateBody(
      {
        Image: 'bb:1',
        Cmd: ['sleep', '1'],
        Env: ['A=1'],
        User: '1000',
        WorkingDir: '/w',
        Labels: { k: 'v' },
        HostConfig: {
          AutoRemove: true,
          Binds: ['/h:/c:ro'],
          Tmpfs: { '/t': '' },
          PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
          CapAdd: ['NET_ADMIN'],
          Memory: 64 << 20,
          NanoCpus: 2e9,
        },
      },
      { name: 'c1' },
    );
    for (const k of [
      'image',
      'command',
      'name',
      'env',
      'user',
      'workdir',
      'network',
      'publish',
      'volumes',
      'tmpfs',
      'autoRemove',
      'labels',
      'tty',
      'interactive',
    ] as const) {
      assert.deepEqual(options[k], cli[k], k);
    }
    for (const k of ['memory', 'cpus', 'capAdd', 'privileged', 'readOnly', 'init'] as const)
      assert.deepEqual(options.runtime[k], cli.runtime[k], `runtime.${k}`);
  });
});
