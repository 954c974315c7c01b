/**
 * The CLI registers only the group of the verb it runs (cli/groups.ts): the table of which
 * group owns which top-level command must match what each group really registers, or a
 * verb would be "unknown" to its own program.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { canonicalArgs, FORWARDS, GROUPS, groupsFor, MANAGEMENT, verbOf } from '../../src/cli/groups.ts';

describe('the verb table of the CLI', () => {
  it('lists exactly the top-level commands each group registers', async () => {
    for (const [load, verbs] of GROUPS) {
      const program = new Command('berth').enablePositionalOptions();
      (await load()).register(program);
      const registered = program.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort();
      assert.deepEqual([...verbs].sort(), registered);
    }
  });

  it('gives no verb but a management command to two groups', () => {
    const all = GROUPS.flatMap(([, verbs]) => verbs).filter((v) => !(MANAGEMENT as readonly string[]).includes(v));
    assert.equal(new Set(all).size, all.length);
  });

  it('forwards every management form to a verb some group registers', () => {
    const verbs = new Set(GROUPS.flatMap(([, v]) => v));
    for (const [group, forms] of Object.entries(FORWARDS)) {
      for (const [form, forward] of Object.entries(forms)) assert.ok(verbs.has(forward[0]!), `${group} ${form} -> ${forward[0]}`);
    }
  });

  const forms: Array<[string[], string[]]> = [
    [
      ['container', 'ls', '-a'],
      ['ps', '-a'],
    ],
    [
      ['--root', '/r', 'container', 'list'],
      ['--root', '/r', 'ps'],
    ],
    [
      ['image', 'rm', 'x'],
      ['rmi', 'x'],
    ],
    [
      ['container', 'inspect', 'c'],
      ['inspect', '--type', 'container', 'c'],
    ],
    [['system', 'info'], ['info']],
    [
      ['container', 'prune', '-f'],
      ['container', 'prune', '-f'],
    ], // registered by its group itself
    [
      ['volume', 'ls'],
      ['volume', 'ls'],
    ],
    [
      ['ps', 'container', 'ls'],
      ['ps', 'container', 'ls'],
    ], // words after the verb are its own
    [
      ['container', '__proto__'],
      ['container', '__proto__'],
    ], // hostile words are no forms
    [
      ['constructor', 'name'],
      ['constructor', 'name'],
    ],
    [
      ['container', 'toString'],
      ['container', 'toString'],
    ],
    [['container'], ['container']],
  ];
  for (const [args, want] of forms) {
    it(`berth ${args.join(' ')} runs as berth ${want.join(' ')}`, () => assert.deepEqual(canonicalArgs(args), want));
  }

  const cases: Array<[string[], string | undefined, number]> = [
    [['build', '-t', 'x', '.'], 'build', 1],
    [['--root', '/r', 'run', '--rm', 'bb:1'], 'run', 1],
    [['--debug', 'images'], 'images', 1],
    [['--root', 'build', 'ps'], 'ps', 1], // --root's value is not the verb
    [['--help'], undefined, GROUPS.length],
    [['help', 'build'], 'help', GROUPS.length],
    [['biuld'], 'biuld', GROUPS.length], // an unknown verb is looked for among all of them
    [['completion', 'bash'], 'completion', GROUPS.length], // completion lists every command
    [['container', 'prune'], 'container', 2], // its own group and the management forms
    [['volume', 'ls'], 'volume', 1],
  ];
  for (const [args, verb, groups] of cases) {
    it(`berth ${args.join(' ')}: verb ${verb}, ${groups} group(s)`, () => {
      assert.equal(verbOf(args), verb);
      assert.equal(groupsFor(verb).length, groups);
    });
  }
});
