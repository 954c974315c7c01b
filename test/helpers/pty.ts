/**
 * A command on a pseudo-terminal, for what berth does only on one (login's prompts): Python's
 * pty module runs it, writes each answer once its prompt shows, and gives back all the
 * terminal showed, with the exit status.
 */
import { spawnSync } from 'node:child_process';

const DRIVER = `
import fcntl, json, os, pty, select, struct, sys, termios, time
argv, answers, size = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    if size:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', size['rows'], size['columns'], 0, 0))
    os.execvp(argv[0], argv)
out = b''
def pump(until, seconds):
    global out
    end = time.time() + seconds
    while (until is None or until not in out) and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
for prompt, answer in answers:
    pump(prompt.encode(), 30)
    os.write(fd, answer.encode())
pump(None, 60)
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(status), 'screen': out.decode(errors='replace')}))
`;

/** Runs `argv` on a terminal (of `size`, when given), answering each prompt (in order) with its text; `\r` is Enter. */
export function onTerminal(
  argv: readonly string[],
  answers: ReadonlyArray<[string, string]>,
  env: NodeJS.ProcessEnv = {},
  size?: { rows: number; columns: number },
): { code: number; screen: string } {
  const r = spawnSync('python3', ['-c', DRIVER, JSON.stringify(argv), JSON.stringify(answers), JSON.stringify(size ?? null)], {
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`pty driver failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as { code: number; screen: string };
}
