// Ships a PostgreSQL CA bundle (Amazon RDS's global bundle, or a company CA) with the functions, as a
// Lambda layer: a layer's files appear under /opt in the function's file system
// (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html), so the deployed configuration's
// `postgres.ssl.caFile` points there. Lambda's own Amazon CA file needs no shipping.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { LAMBDA_CA_FILE } from '../lambdas/config';
import { InvalidConfigError } from '../lambdas/domain/errors';

/** Where the functions find the bundle. */
export const SHIPPED_CA_FILE = '/opt/tally/postgres-ca.pem';

export interface PostgresCaBundleProps {
  /** The PEM file on the machine that synthesizes the stack. */
  readonly file: string;
}

export class PostgresCaBundle extends Construct {
  readonly layer: lambda.LayerVersion;
  /** Where the functions find the bundle. */
  readonly path = SHIPPED_CA_FILE;

  constructor(scope: Construct, id: string, props: PostgresCaBundleProps) {
    super(scope, id);
    let pem: string;
    try {
      pem = readFileSync(props.file, 'utf8');
    } catch (err) {
      throw new InvalidConfigError(
        `postgres.ssl.caFile ${props.file} cannot be read to ship it with the functions (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give the PEM bundle's path on this machine, or ${LAMBDA_CA_FILE} for Lambda's own Amazon CAs`,
        { cause: err },
      );
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new InvalidConfigError(`postgres.ssl.caFile ${props.file} holds no PEM certificate`);
    }
    // The asset is the folder's content, hashed; where the folder lives does not matter.
    const folder = mkdtempSync(join(tmpdir(), 'tally-ca-layer-'));
    mkdirSync(join(folder, 'tally'));
    writeFileSync(join(folder, 'tally', 'postgres-ca.pem'), pem);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(folder),
      description: 'Tally: the CA bundle that verifies PostgreSQL certificates',
    });
  }
}
