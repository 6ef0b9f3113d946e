// Starts the embedded defaults once for the whole run and hands their endpoints to the tests.
import type { TestProject } from 'vitest/node';
import { type StackInfo, startLocalStack } from '../../local/stack';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startLocalStack();
  project.provide('stack', stack.info);
  return () => stack.stop();
}
