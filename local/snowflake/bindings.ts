// The binds of a query-request as snowflake-sdk sends them: `{"1": {type, value}, "2": ...}`, turned into
// positional binds. Named binds are outside what Tally sends.
import type { Bind } from './engine-types';

/** Throws an Error whose message the server answers with (002049) for binds it cannot take. */
export function parseBindings(bindings: unknown): Bind[] {
  if (bindings === undefined || bindings === null) return [];
  if (typeof bindings !== 'object') throw new Error('Bindings must be an object.');
  const entries = Object.entries(bindings as Record<string, { type?: unknown; value?: unknown }>);
  const binds: Bind[] = [];
  for (const [key, bind] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 1) {
      throw new Error(
        `Bind variable '${key}' is not supported by the local Snowflake stand-in: use ? or :1.`,
      );
    }
    const value = bind?.value;
    const valid =
      value === null ||
      typeof value === 'string' ||
      (Array.isArray(value) && value.every((v) => v === null || typeof v === 'string'));
    if (!valid) throw new Error(`Bind variable ${key} has a value of an unexpected shape.`);
    binds[index - 1] = { type: String(bind?.type ?? 'TEXT'), value: value as Bind['value'] };
  }
  for (let i = 0; i < binds.length; i++) {
    if (!binds[i]) throw new Error(`Bind variable ${i + 1} is missing.`);
  }
  return binds;
}
