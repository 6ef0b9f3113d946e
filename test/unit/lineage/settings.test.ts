import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/config';
import { InvalidConfigError } from '../../../lambdas/domain/errors';
import { resolveLineageSettings } from '../../../lambdas/runtime/lineage-settings';
import { config } from '../../support/fakes';

const empty = () => mkdtempSync(join(tmpdir(), 'tally-ol-'));
const lookup = () => ({ cwd: empty(), home: empty() });

function yml(text: string): string {
  const dir = empty();
  const path = join(dir, 'my-openlineage.yml');
  writeFileSync(path, text);
  return path;
}

describe('the OpenLineage settings', () => {
  it('send nothing when neither the configuration nor the environment asks for lineage', () => {
    expect(resolveLineageSettings(config, {}, lookup())).toBeNull();
  });

  it('take OPENLINEAGE_URL, OPENLINEAGE_ENDPOINT and OPENLINEAGE_API_KEY as the clients do', () => {
    const env = { OPENLINEAGE_URL: 'http://marquez:5000', OPENLINEAGE_API_KEY: 'k-123' };
    expect(resolveLineageSettings(config, env, lookup())).toMatchObject({
      namespace: 'tally',
      transport: {
        type: 'http',
        url: 'http://marquez:5000',
        endpoint: 'api/v1/lineage',
        apiKey: 'k-123',
        timeoutMs: 5000,
      },
      origin: 'OPENLINEAGE_URL',
    });
    const custom = resolveLineageSettings(
      config,
      { ...env, OPENLINEAGE_ENDPOINT: 'api/v2/events' },
      lookup(),
    );
    expect(custom?.transport).toMatchObject({ endpoint: 'api/v2/events' });
  });

  it('refuse a bad OPENLINEAGE_URL at start, naming the variable', () => {
    expect(() => resolveLineageSettings(config, { OPENLINEAGE_URL: 'not a url' }, lookup())).toThrow(
      new InvalidConfigError('invalid OpenLineage environment: OPENLINEAGE_URL: Invalid URL'),
    );
  });

  it('read the transport of the file OPENLINEAGE_CONFIG names, in the clients own keys', () => {
    const path = yml(
      'transport:\n  type: http\n  url: https://lineage.example.com\n  endpoint: /api/v1/lineage\n  timeout: 2.5\n  auth:\n    type: api_key\n    api_key: from-file\nfacets:\n  environment_variables: [HOME]\n',
    );
    const settings = resolveLineageSettings(
      config,
      { OPENLINEAGE_CONFIG: path, OPENLINEAGE_URL: 'http://ignored:1' },
      lookup(),
    );
    expect(settings).toMatchObject({
      origin: path,
      transport: {
        type: 'http',
        url: 'https://lineage.example.com',
        endpoint: '/api/v1/lineage',
        timeoutMs: 2500,
        apiKey: 'from-file',
      },
    });
  });

  it('find openlineage.yml in the working directory, then in ~/.openlineage', () => {
    const where = lookup();
    mkdirSync(join(where.home, '.openlineage'));
    writeFileSync(join(where.home, '.openlineage', 'openlineage.yml'), 'transport:\n  type: console\n');
    expect(resolveLineageSettings(config, {}, where)?.transport).toEqual({ type: 'console' });
    writeFileSync(
      join(where.cwd, 'openlineage.yml'),
      'transport:\n  type: file\n  log_file_path: events\n  append: true\n',
    );
    expect(resolveLineageSettings(config, {}, where)?.transport).toEqual({
      type: 'file',
      logFilePath: join(where.cwd, 'events'),
      append: true,
    });
  });

  it('refuse a file that is missing, a transport Tally does not speak, or a wrong key, naming it', () => {
    expect(() => resolveLineageSettings(config, { OPENLINEAGE_CONFIG: '/nowhere/ol.yml' }, lookup())).toThrow(
      /OPENLINEAGE_CONFIG names \/nowhere\/ol\.yml, which does not exist/,
    );
    const kafka = yml('transport:\n  type: kafka\n  topic: lineage\n');
    expect(() => resolveLineageSettings(config, { OPENLINEAGE_CONFIG: kafka }, lookup())).toThrow(
      /transport\.type 'kafka' is not one Tally sends with \(http, file, console\)/,
    );
    const typo = yml('transport:\n  type: http\n  url: http://x:1\n  endpiont: api\n');
    expect(() => resolveLineageSettings(config, { OPENLINEAGE_CONFIG: typo }, lookup())).toThrow(
      /transport: Unrecognized key: "endpiont"/,
    );
  });

  it("let Tally's own lineage.transport win, and lineage.enabled or OPENLINEAGE_DISABLED turn it off", () => {
    const own = parseConfig({
      ...config,
      lineage: { namespace: 'acme', transport: { type: 'file', logFilePath: '/var/log/ol', append: true } },
    });
    const env = { OPENLINEAGE_URL: 'http://marquez:5000' };
    expect(resolveLineageSettings(own, env, lookup())).toMatchObject({
      namespace: 'acme',
      origin: 'lineage.transport',
      transport: { type: 'file' },
    });
    expect(resolveLineageSettings(own, { ...env, OPENLINEAGE_DISABLED: 'true' }, lookup())).toBeNull();
    const off = parseConfig({ ...config, lineage: { enabled: false } });
    expect(resolveLineageSettings(off, env, lookup())).toBeNull();
  });

  it('are validated with the configuration, naming the wrong setting', () => {
    expect(() =>
      parseConfig({ ...config, lineage: { transport: { type: 'http', url: 'ftp://x', timeoutMs: 60_000 } } }),
    ).toThrow(/lineage\.transport\.url: .*; lineage\.transport\.timeoutMs: .*30000/);
    expect(() => parseConfig({ ...config, lineage: { transport: { type: 'kafka' } } })).toThrow(
      /lineage\.transport\.type/,
    );
  });
});
