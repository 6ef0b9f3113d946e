// The steps' durations at the end of a final audit event's message: written in step order, read back
// with the message they were appended to, and absent from the events written before them.
import { describe, expect, it } from 'vitest';
import { readStepDurations, withStepDurations } from '../../../lambdas/domain/step-durations';

describe("the steps' durations on an audit event", () => {
  it('are appended in step order, rounded, and read back with the message they followed', () => {
    const message = withStepDurations('values verified (full): 2 segment checksums', {
      WriteAudit: 4.6,
      CountSource: 12,
      ExportToS3: 3_400,
    });
    expect(message).toBe(
      'values verified (full): 2 segment checksums [step ms: CountSource=12 ExportToS3=3400 WriteAudit=5]',
    );
    expect(readStepDurations(message)).toEqual({
      message: 'values verified (full): 2 segment checksums',
      durations: { CountSource: 12, ExportToS3: 3_400, WriteAudit: 5 },
    });
  });

  it('stand alone on an event with no message, which reads back as none', () => {
    const message = withStepDurations(null, { LoadSnowflake: 7 });
    expect(message).toBe('[step ms: LoadSnowflake=7]');
    expect(readStepDurations(message)).toEqual({ message: null, durations: { LoadSnowflake: 7 } });
  });

  it('leave a message as it was when there are none, and an event written before them carries none', () => {
    expect(withStepDurations('counts do not close', {})).toBe('counts do not close');
    expect(withStepDurations(null, { VerifyCounts: -1 })).toBeNull();
    expect(readStepDurations('counts do not close [step ms: nothing]')).toEqual({
      message: 'counts do not close [step ms: nothing]',
      durations: {},
    });
    expect(readStepDurations(null)).toEqual({ message: null, durations: {} });
  });
});
