// The local Step Functions interpreter (aws-local-stepfunctions), loaded behind the one polyfill it needs
// on Node 20. Without it, a Task fails with a TypeError that a `States.ALL` Catch takes for a task error.
// The interpreter is patched (patches/) to fill `$$.State` as AWS does, RetryCount included.

type Resolvers<T> = {
  promise: Promise<T>;
  resolve: (v: T | PromiseLike<T>) => void;
  reject: (e: unknown) => void;
};

const PromiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof PromiseCtor.withResolvers !== 'function') {
  PromiseCtor.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// Loaded only after the polyfill is in place.
const interpreter = await import('aws-local-stepfunctions');

export const { StateMachine, ExecutionError } = interpreter;
export type { StateMachineDefinition } from 'aws-local-stepfunctions';
