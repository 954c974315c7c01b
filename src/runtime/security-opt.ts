/**
 * `--security-opt` values, checked as Docker checks them (the CLI's parseSecurityOpts, then
 * the daemon's parseSecurityOpt): `no-new-privileges[=bool]`, `seccomp=`, `apparmor=`,
 * `label=` (with `:` as the old separator), and `systempaths=unconfined`. Anything else
 * is refused with Docker's message, never ignored: an option the user believes in must not
 * silently do nothing.
 */
import { BerthError } from '../errors/index.ts';

export interface SecurityOpts {
  readonly noNewPrivileges: boolean;
  /** The last `seccomp=` value: `unconfined`, `builtin`/`default`, or a profile file. */
  readonly seccomp?: string;
  /** `systempaths=unconfined`: no masked or read-only paths under /proc and /sys. */
  readonly unconfinedSystemPaths: boolean;
}

/** Go's strconv.ParseBool, which the daemon applies to `no-new-privileges=`. */
const BOOLS: Record<string, boolean> = {
  1: true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  0: false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Parses the options in order (a later one wins); throws INVALID_ARGUMENT with Docker's words. */
export function parseSecurityOpts(opts: readonly string[] = []): SecurityOpts {
  let noNewPrivileges = false;
  let seccomp: string | undefined;
  let unconfinedSystemPaths = false;
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      noNewPrivileges = true;
      continue;
    }
    const sep = opt.includes('=') ? '=' : ':';
    const at = opt.indexOf(sep);
    const key = at < 0 ? opt : opt.slice(0, at);
    const value = at < 0 ? '' : opt.slice(at + 1);
    if (at < 0 || value === '') throw invalid(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    switch (key) {
      case 'no-new-privileges': {
        const b = BOOLS[value];
        if (b === undefined) throw invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        noNewPrivileges = b;
        break;
      }
      case 'seccomp':
        seccomp = value;
        break;
      case 'apparmor':
      case 'label':
        break; // no AppArmor or SELinux policy is loaded by berth: accepted, as docker does on such a host
      case 'systempaths':
        if (value !== 'unconfined' || sep !== '=') throw invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
        unconfinedSystemPaths = true;
        break;
      default:
        throw invalid(`invalid --security-opt 2: ${JSON.stringify(opt)}`);
    }
  }
  return { noNewPrivileges, seccomp, unconfinedSystemPaths };
}

function invalid(message: string): BerthError {
  return new BerthError('INVALID_ARGUMENT', message, {
    hint: 'known options: no-new-privileges[=true|false], seccomp=unconfined|PROFILE, apparmor=PROFILE, label=..., systempaths=unconfined',
  });
}
