/**
 * Work no step waits for: the cleanup a step leaves behind that nothing after it reads (a RUN
 * step's bundle dir and network, a COPY's temp dir), and the CLI's lint. Done in line, each
 * held up the next step (a bridge network's CNI DEL by much). It starts
 * instead when the build next waits on a container, whose run leaves the main thread idle,
 * and at the latest when the build ends, which waits for all of it, failed or not. A task's
 * failure is its own to report: here it is dropped, as the in-line cleanup dropped it.
 */
export class LaterWork {
  private readonly queued: Array<() => unknown>;
  private readonly started: Promise<unknown>[] = [];

  /** `first`: a task queued from the start (a build's own idle-time work). */
  constructor(first?: () => unknown) {
    this.queued = first ? [first] : [];
  }

  add(task: () => unknown): void {
    this.queued.push(task);
  }

  /** Starts every queued task; their synchronous parts run in the next microtask. */
  start(): void {
    for (const task of this.queued.splice(0)) this.started.push(Promise.resolve().then(task).catch(() => undefined));
  }

  /** Starts what is still queued and waits for all of it. */
  async finish(): Promise<void> {
    this.start();
    await Promise.all(this.started.splice(0));
  }
}
