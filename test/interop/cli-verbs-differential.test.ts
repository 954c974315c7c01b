/**
 * Differential (issue 22): verbs, management forms and usage errors through docker CLI 28
 * against a private dockerd and through berth, compared on exit status and stdout (and the
 * first line of stderr where a script would read it). Errors of the command line itself
 * (unknown verbs and flags, wrong argument counts) are compared on status only: docker's
 * words name `docker`, berth's name `berth`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tempRoot } from '../helpers/berth.ts';
import { busyboxTar } from '../helpers/busybox.ts';
import { assertSameAsDocker, type DiffCase } from '../helpers/cli-diff.ts';
import { DOCKER_CLI_28, docker, startDockerd, stopDockerd } from '../helpers/dockerd.ts';

process.env.BERTH_TEST_DOCKER_CLI = DOCKER_CLI_28;

const t = tempRoot('berth-diff-verbs-');
before(async () => {
  await startDockerd();
  for (const run of [docker, (a: readonly string[]) => t.run(a)]) {
    assert.equal(run(['import', busyboxTar(), 'bbdiff:1']).code, 0);
    assert.equal(run(['create', '--name', 'pc', '--network', 'none', 'bbdiff:1', 'true']).code, 0);
  }
});
after(() => {
  stopDockerd();
  t.cleanup();
});

const cases: DiffCase[] = [
  // version: the Engine API version both servers speak, and the platform
  { name: 'version --format server API version', args: ['version', '--format', '{{.Server.APIVersion}}'] },
  { name: 'version -f client OS/arch', args: ['version', '-f', '{{.Client.Os}}/{{.Client.Arch}}'] },
  { name: 'version --format server OS/arch', args: ['version', '--format', '{{.Server.Os}}/{{.Server.Arch}}'] },
  { name: 'version with an unknown flag', args: ['version', '--bogus'], stderr: true },
  // port
  { name: 'port of a container without published ports', args: ['port', 'pc'] },
  { name: 'port of an unpublished private port', args: ['port', 'pc', '80'], stderr: true },
  { name: 'port of an unpublished udp port', args: ['port', 'pc', '53/udp'], stderr: true },
  { name: 'port of no such container', args: ['port', 'nosuch'], stderr: true },
  { name: 'port without a container', args: ['port'] },
  { name: 'port with three arguments', args: ['port', 'pc', '80', '81'] },
  { name: 'container port', args: ['container', 'port', 'pc'] },
  // update
  { name: 'update without a flag', args: ['update', 'pc'] },
  { name: 'update of no such container', args: ['update', '--memory', '64m', 'nosuch'] },
  { name: 'container update --pids-limit', args: ['container', 'update', '--pids-limit', '42', 'pc'] },
  { name: 'inspect shows the updated pids limit', args: ['inspect', '--format', '{{.HostConfig.PidsLimit}}', 'pc'] },
  { name: 'update with a flag that takes a size, given none', args: ['update', '--memory', 'lots', 'pc'], stderr: true },
  { name: 'update with a count that is not one', args: ['update', '--pids-limit', 'many', 'pc'] },
  // engine errors: 1 outside run/create
  { name: 'rm of no such container', args: ['rm', 'nosuch'], stderr: true },
  { name: 'stop of no such container', args: ['stop', 'nosuch'] },
  { name: 'start of no such container', args: ['start', 'nosuch'] },
  { name: 'restart of no such container', args: ['restart', 'nosuch'] },
  { name: 'logs of no such container', args: ['logs', 'nosuch'], stderr: true },
  { name: 'pause of no such container', args: ['pause', 'nosuch'] },
  { name: 'rmi of no such image', args: ['rmi', 'nosuch:1'], stderr: true },
  { name: 'history of no such image', args: ['history', 'nosuch:1'] },
  { name: 'rename to a taken name', args: ['rename', 'pc', 'pc'] },
  { name: 'network rm of no such network', args: ['network', 'rm', 'nosuch'] },
  // usage errors: docker's statuses
  { name: 'an unknown verb', args: ['definitely-not-a-verb'] },
  { name: 'an unknown container subcommand', args: ['container', 'bogus'] },
  { name: 'an unknown image subcommand', args: ['image', 'bogus'] },
  { name: 'an unknown flag of run', args: ['run', '--bogus', 'bbdiff:1'], stderr: true },
  { name: 'an unknown shorthand flag of ps', args: ['ps', '-Z'], stderr: true },
  { name: 'an unknown flag of a management form', args: ['container', 'ls', '--bogus'], stderr: true },
  { name: 'a flag without its value', args: ['logs', 'pc', '--tail'] },
  { name: 'rm without arguments', args: ['rm'] },
  { name: 'logs with two containers', args: ['logs', 'pc', 'pc'] },
  { name: 'tag with one argument', args: ['tag', 'bbdiff:1'] },
  { name: 'volume create with two names', args: ['volume', 'create', 'a', 'b'] },
  // management forms and their aliases
  { name: 'container ls -a', args: ['container', 'ls', '-a', '--format', '{{.Names}} {{.Image}}'] },
  { name: 'container list -a', args: ['container', 'list', '-a', '--format', '{{.Names}}'] },
  { name: 'container ps -aq', args: ['container', 'ps', '-aq'] },
  { name: 'container inspect', args: ['container', 'inspect', '--format', '{{.Name}} {{.Config.Image}}', 'pc'] },
  { name: 'image ls', args: ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'] },
  { name: 'image list -q', args: ['image', 'list', '-q'] },
  { name: 'image inspect', args: ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'bbdiff:1'] },
  { name: 'image rm of no such image', args: ['image', 'rm', 'nosuch:1'], stderr: true },
  { name: 'image remove of no such image', args: ['image', 'remove', 'nosuch:1'] },
  { name: 'image tag, then image ls', args: ['image', 'tag', 'bbdiff:1', 'bbdiff:2'] },
  { name: 'image history -q', args: ['image', 'history', '-q', 'bbdiff:1'] },
  { name: 'volume create', args: ['volume', 'create', 'diffvol'] },
  { name: 'volume list -q', args: ['volume', 'list', '-q'] },
  { name: 'volume remove', args: ['volume', 'remove', 'diffvol'] },
  { name: 'volume rm of no such volume', args: ['volume', 'rm', 'nosuch'] },
  { name: 'network inspect', args: ['network', 'inspect', '--format', '{{.Name}} {{.Driver}}', 'host', 'none'] },
  { name: 'network remove of no such network', args: ['network', 'remove', 'nosuch'] },
  { name: 'system info', args: ['system', 'info', '--format', '{{.OSType}} {{.Architecture}}'] },
  { name: 'image prune -f', args: ['image', 'prune', '-f'] },
  { name: 'builder prune -f', args: ['builder', 'prune', '-f'] },
  { name: 'container rm', args: ['container', 'rm', 'pc'] },
];

describe('berth and docker 28: verbs, management forms, exit statuses', () => {
  it('has enough cases', () => assert.ok(cases.length >= 15));
  for (const c of cases) it(c.name, () => assertSameAsDocker(c, (a, input) => t.run(a, { input })));
});
