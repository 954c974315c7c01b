import type { Rule } from '../types.ts';

export const shellFormCmd: Rule = {
  id: 'BL013',
  name: 'shell-form-entrypoint',
  severity: 'warning',
  buildkit: 'JSONArgsRecommended',
  summary: 'ENTRYPOINT or CMD in shell form, where signals do not reach the app',
  why: 'Shell form runs your program under `/bin/sh -c`: the shell is PID 1 and does not forward SIGTERM, so `docker stop` waits 10 s and kills training jobs without a chance to checkpoint.',
  fix: 'Use exec (JSON) form: `ENTRYPOINT ["python3", "train.py"]`.',
  check({ dockerfile }) {
    return dockerfile.stages.flatMap((s) =>
      s.instructions.flatMap((inst) =>
        (inst.kind === 'cmd' || inst.kind === 'entrypoint') && !inst.json && inst.args.length
          ? [{ inst, message: `${inst.kind.toUpperCase()} in shell form: the app will not receive signals` }]
          : [],
      ),
    );
  },
};
