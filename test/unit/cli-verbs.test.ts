/**
 * The CLI registers only the group of the verb it runs (cli/groups.ts): the table of which
 * group owns which top-level command must match what each group really registers, or a
 * verb would be "unknown" to its own program.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { GROUPS, groupsFor, verbOf } from '../../src/cli/groups.ts';

describe('the verb table of the CLI', () => {
  it('lists exactly the top-level commands each group registers', async () => {
    for (const [load, verbs] of GROUPS) {
      const program = new Command('berth').enablePositionalOptions();
      (await load()).register(program);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort();
      assert.deepEqual([...verbs].sort(), registered);
    }
  });

  it('gives no verb to two groups', () => {
    const all = GROUPS.flatMap(([, verbs]) => verbs);
    assert.equal(new Set(all).size, all.length);
  });

  const cases: Array<[string[], string | undefined, number]> = [
    [['build', '-t', 'x', '.'], 'build', 1],
    [['--root', '/r', 'run', '--rm', 'bb:1'], 'run', 1],
    [['--debug', 'images'], 'images', 1],
    [['--root', 'build', 'ps'], 'ps', 1], // --root's value is not the verb
    [['--help'], undefined, GROUPS.length],
    [['help', 'build'], 'help', GROUPS.length],
    [['biuld'], 'biuld', GROUPS.length], // an unknown verb's error suggests among all of them
  ];
  for (const [args, verb, groups] of cases) {
    it(`berth ${args.join(' ')}: verb ${verb}, ${groups} group(s)`, () => {
      assert.equal(verbOf(args), verb);
      assert.equal(groupsFor(verb).length, groups);
    });
  }
});
