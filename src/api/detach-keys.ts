/**
 * docker's detach keys: a TTY client's stdin is watched for the sequence (ctrl-p ctrl-q unless
 * the exec names its own), which ends the client's stream and leaves the process running.
 */

/** docker's names for the control characters, by code: `ctrl-@` is 0, `ctrl-a` 1 ... `ctrl-_` 31. */
const CTRL_NAMES = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

export const DEFAULT_DETACH_KEYS = Buffer.from([0x10, 0x11]);

/**
 * The bytes of a `DetachKeys` spec such as `ctrl-p,ctrl-q` or `a,ctrl-x`: each key a single
 * character or a ctrl- name. undefined for a spec docker would not take (it then warns and keeps
 * the default, as here the caller does).
 */
export function parseDetachKeys(spec: string): Buffer | undefined {
  if (!spec) return undefined;
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) codes.push(key.charCodeAt(0));
    else {
      const code = CTRL_NAMES.indexOf(key);
      if (code < 0) return undefined;
      codes.push(code);
    }
  }
  return codes.every((c) => c < 256) ? Buffer.from(codes) : undefined;
}

/**
 * Watches input for the keys across chunks: bytes that begin the sequence are held back until
 * it is either complete (a detach; those bytes and whatever follows are not input) or broken
 * (then they are input after all).
 */
export class DetachWatcher {
  private held = 0;
  detached = false;

  constructor(private readonly keys: Buffer) {}

  /** The part of `chunk` that is input. */
  feed(chunk: Buffer): Buffer {
    if (this.detached || !this.keys.length) return this.detached ? Buffer.alloc(0) : chunk;
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) {
          this.detached = true;
          break;
        }
        continue;
      }
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]!);
      this.held = b === this.keys[0] ? 1 : 0;
      if (!this.held) out.push(b);
    }
    return Buffer.from(out);
  }
}
