/** Telling runc's failure to start a container from the container's own stderr. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuncStartWatch } from '../../src/runtime/index.ts';

const FAILURE =
  'time="2026-11-25T06:00:00Z" level=error msg="runc run failed: unable to start container process: error setting cgroup config: unable to set memory limit to 102400 (\\"current\\" usage: 2367488)"\n';

describe('RuncStartWatch', () => {
  const cases: Array<{ name: string; before: string[]; after?: string[]; claimed: boolean[]; error?: string }> = [
    { name: 'container output before the start is passed on', before: ['starting\n'], claimed: [false] },
    {
      name: "runc's failure is claimed, with its reason unquoted",
      before: [FAILURE],
      claimed: [true],
      error:
        'OCI runtime create failed: unable to start container process: error setting cgroup config: unable to set memory limit to 102400 ("current" usage: 2367488)',
    },
    { name: 'a container that prints the same line after it started keeps its output', before: ['up\n'], after: [FAILURE], claimed: [false, false] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = new RuncStartWatch();
      const got = c.before.map((s) => w.claims(Buffer.from(s)));
      if (c.after) {
        w.containerStarted();
        got.push(...c.after.map((s) => w.claims(Buffer.from(s))));
      }
      assert.deepEqual(got, c.claimed);
      assert.equal(w.error, c.error);
    });
  }
});
