import { describe, expect, it } from 'vitest';
import * as errors from '../../../lambdas/domain/errors';

const { ERROR_CATALOG, TERMINAL_ERROR_NAMES, TRANSIENT_ERROR_NAMES } = errors;

describe('named errors', () => {
  it('have one class per catalog name, whose instances carry that exact name', () => {
    for (const { name, kind } of ERROR_CATALOG) {
      const Ctor = (errors as unknown as Record<string, new (m: string) => errors.TallyError>)[name];
      expect(Ctor, name).toBeTypeOf('function');
      const err = new Ctor!('boom');
      expect(err.name).toBe(name);
      expect(err.kind).toBe(kind);
      expect(err).toBeInstanceOf(Error);
    }
  });

  it('split into transient and terminal names without overlap', () => {
    expect(TRANSIENT_ERROR_NAMES).toContain('SourceUnavailableError');
    expect(TERMINAL_ERROR_NAMES).toContain('CountMismatchError');
    expect(TRANSIENT_ERROR_NAMES.filter((n) => (TERMINAL_ERROR_NAMES as string[]).includes(n))).toEqual([]);
    expect(TRANSIENT_ERROR_NAMES.length + TERMINAL_ERROR_NAMES.length).toBe(ERROR_CATALOG.length);
  });

  it('keep the cause they were given', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new errors.SourceUnavailableError('down', { cause }).cause).toBe(cause);
  });
});
