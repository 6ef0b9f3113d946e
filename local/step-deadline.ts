// A Lambda timeout for the local runner. An invocation gets a deadline when it starts; if the step has
// not finished by then it ends with `Sandbox.Timedout`, as Lambda reports a function that ran past its
// timeout today (AWS documents `Lambda.Unknown` too; the definition treats both alike),
// and every later call it makes through its ports fails the same way, so an abandoned step writes nothing
// more (a call already under way may still complete). The step runs on a step clock of the same limit,
// as in a Lambda, so its Snowflake statements are cancelled before the limit, not left running past it.
import { type Ports, viewPorts } from '../lambdas/ports';
import { withStepClock } from '../lambdas/step-clock';

/** How Lambda reports a function that ran past its timeout; no Retry lists it, so the Catch takes it. */
export class LambdaTimeoutError extends Error {
  override readonly name = 'Sandbox.Timedout';
}

export class StepDeadline {
  private expired = false;
  private readonly timer: NodeJS.Timeout;
  private readonly deadline: Promise<never>;

  constructor(
    state: string,
    private readonly limitMs: number,
  ) {
    let timer!: NodeJS.Timeout;
    this.deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.expired = true;
        reject(new LambdaTimeoutError(`${state} timed out after ${limitMs} ms (the Lambda's timeout)`));
      }, limitMs);
    });
    this.timer = timer;
    this.deadline.catch(() => undefined);
  }

  /** Runs the step on a clock of this limit: its result, or Sandbox.Timedout once the limit passed. */
  run<T>(step: () => Promise<T>): Promise<T> {
    return this.race(withStepClock(this.limitMs, step));
  }

  /** The work's result, or Sandbox.Timedout once the deadline passed. */
  race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    return Promise.race([work, this.deadline]);
  }

  /** Stops the clock once the invocation has ended. */
  clear(): void {
    clearTimeout(this.timer);
  }

  /** The ports as this invocation sees them: each call raced against the deadline, refused after it. */
  wrap(ports: Ports): Ports {
    const limited = <T extends object>(port: T): T =>
      new Proxy(port, {
        get: (target, prop, receiver) => {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (this.expired) return this.deadline;
            return this.race(Promise.resolve(value.apply(target, args)));
          };
        },
      });
    return viewPorts(ports, (_name, port) => limited(port));
  }
}
