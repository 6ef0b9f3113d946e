import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  clockFor,
  currentStepClock,
  statementCeilingSeconds,
  stepMarginMs,
  withStepClock,
} from '../../lambdas/step-clock';
import { STEPS } from '../../lambdas/steps/registry';
import { StepDeadline } from '../../local/step-deadline';

describe('the step clock', () => {
  it('keeps 25 s of a 15-minute step back for cancelling its statements and recording its failure', () => {
    expect(clockFor(900_000, 1_000)).toEqual({ endsAt: 901_000, marginMs: 25_000, deadline: 876_000 });
  });

  it('keeps a quarter of a step shorter than 100 s back instead', () => {
    expect(stepMarginMs(8_000)).toBe(2_000);
    expect(stepMarginMs(100_000)).toBe(25_000);
    expect(clockFor(2_000, 0)).toEqual({ endsAt: 2_000, marginMs: 500, deadline: 1_500 });
  });

  it("holds the server's statement timeout to the longest step's deadline", () => {
    expect(statementCeilingSeconds(STEPS.loadSnowflake.timeoutSeconds)).toBe(875);
    expect(statementCeilingSeconds(STEPS.plan.timeoutSeconds)).toBe(95);
  });

  it('is seen by everything a step starts, across awaits, and by nothing outside a step', async () => {
    expect(currentStepClock()).toBeUndefined();
    const seen = await withStepClock(60_000, async () => {
      await sleep(1);
      return new Promise((resolve) => setImmediate(() => resolve(currentStepClock())));
    });
    expect(seen).toMatchObject({ marginMs: 15_000 });
    expect(currentStepClock()).toBeUndefined();
  });

  it('keeps two steps running at once apart', async () => {
    const [short, long] = await Promise.all([
      withStepClock(4_000, async () => {
        await sleep(5);
        return currentStepClock()?.marginMs;
      }),
      withStepClock(400_000, async () => {
        await sleep(1);
        return currentStepClock()?.marginMs;
      }),
    ]);
    expect([short, long]).toEqual([1_000, 25_000]);
  });

  it("is the local runner's time limit for the step it runs", async () => {
    const deadline = new StepDeadline('LoadSnowflake', 8_000);
    const before = Date.now();
    try {
      const clock = await deadline.run(async () => currentStepClock());
      expect(clock?.marginMs).toBe(2_000);
      expect(clock?.endsAt).toBeGreaterThanOrEqual(before + 8_000);
      expect(clock?.deadline).toBe(clock!.endsAt - 2_000);
    } finally {
      deadline.clear();
    }
  });
});
