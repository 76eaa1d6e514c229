import type { Schedule } from '../../src/oidc/discovery.js';

interface Task {
  readonly run: () => Promise<void>;
  readonly delayMs: number;
  cancelled: boolean;
}

/** A `Schedule` that only records tasks; the test runs them when it wants (no timers, no sleeps). */
export class ManualSchedule {
  readonly tasks: Task[] = [];
  readonly schedule: Schedule = (run, delayMs) => {
    const task: Task = { run, delayMs, cancelled: false };
    this.tasks.push(task);
    return () => {
      task.cancelled = true;
    };
  };

  /** Tasks scheduled and neither run nor cancelled. */
  get pending(): Task[] {
    return this.tasks.filter((t) => !t.cancelled);
  }

  /** Runs the oldest pending task (and waits for it). */
  async runNext(): Promise<void> {
    const i = this.tasks.findIndex((t) => !t.cancelled);
    if (i < 0) throw new Error('no scheduled task');
    const [task] = this.tasks.splice(i, 1);
    await task!.run();
  }
}
