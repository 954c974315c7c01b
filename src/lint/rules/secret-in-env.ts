import type { Rule } from '../types.ts';

const SECRET =
  /(^|_)(TOKEN|PASSWORD|PASSWD|PASS|SECRET|SECRET_KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?|AUTH)($|_)|^HF_TOKEN$|^HUGGING_FACE_HUB_TOKEN$|^(AWS|OPENAI|WANDB|GITHUB|GH|NPM)_.*KEY$/i;
const NOT_SECRET = /(GPG|PUBLIC|PUB)_?KEY|_FILE$|_PATH$|_DIR$|KEYRING/i;

export const secretInEnv: Rule = {
  id: 'BL010',
  name: 'secret-in-env-or-arg',
  severity: 'error',
  buildkit: 'SecretsUsedInArgOrEnv',
  summary: 'A secret-looking name (TOKEN, PASSWORD, SECRET, API_KEY, HF_TOKEN…) set with ENV or ARG',
  why: 'ENV values are stored in the image config and ARG values in the build history: anyone who pulls the image can read them.',
  fix: 'Pass secrets with `RUN --mount=type=secret,id=hf,env=HF_TOKEN …` (berth build --secret id=hf,env=HF_TOKEN); they never reach a layer or the history.',
  check({ dockerfile }) {
    const all = [...dockerfile.globalArgs, ...dockerfile.stages.flatMap((s) => s.instructions)];
    return all.flatMap((inst) => {
      const names = inst.kind === 'env' ? inst.pairs.map(([k]) => k) : inst.kind === 'arg' ? inst.args.map((a) => a.name) : [];
      const bad = names.filter((n) => SECRET.test(n) && !NOT_SECRET.test(n));
      return bad.length ? [{ inst, message: `${inst.kind.toUpperCase()} ${bad.join(', ')} looks like a secret; it would be stored in the image` }] : [];
    });
  },
};
