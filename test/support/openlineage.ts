// Validates OpenLineage events against the specification's own JSON schemas (test/fixtures/openlineage,
// draft 2020-12): the run event, and each facet against its facet schema. A facet no schema here
// describes is reported too, so no facet goes unchecked.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const SPEC = join(import.meta.dirname, '..', 'fixtures', 'openlineage', 'spec');
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

type Schema = { $id: string; properties?: Record<string, unknown> };

// Strict, but for what the specification's own files do: `required` in a `not` names properties defined
// elsewhere, and `allOf` branches leave `type` to their siblings.
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
// The specification's files carry `example` beside their keywords, an annotation ajv does not know.
ajv.addKeyword('example');
addFormats(ajv);

const core = JSON.parse(readFileSync(join(SPEC, 'OpenLineage.json'), 'utf8')) as Schema;
ajv.addSchema(core);
const facetSchemas = readdirSync(join(SPEC, 'facets')).map(
  (file) => JSON.parse(readFileSync(join(SPEC, 'facets', file), 'utf8')) as Schema,
);
for (const schema of facetSchemas) ajv.addSchema(schema);

const validateEvent = ajv.getSchema(core.$id) as ValidateFunction;

/** Where each facet sits in a run event, and which facet schema files describe a facet there. */
const FACET_PLACES = {
  run: ['ErrorMessageRunFacet', 'NominalTimeRunFacet', 'ParentRunFacet', 'ProcessingEngineRunFacet'],
  job: ['JobTypeJobFacet'],
  input: ['DataQualityAssertionsDatasetFacet', 'DataQualityMetricsInputDatasetFacet', 'SchemaDatasetFacet'],
  output: ['OutputStatisticsOutputDatasetFacet', 'SchemaDatasetFacet'],
} as const;

function facetValidators(place: keyof typeof FACET_PLACES): {
  names: Set<string>;
  checks: ValidateFunction[];
} {
  const schemas = facetSchemas.filter((s) =>
    (FACET_PLACES[place] as readonly string[]).some((name) => s.$id.endsWith(`/${name}.json`)),
  );
  return {
    names: new Set(schemas.flatMap((s) => Object.keys(s.properties ?? {}))),
    checks: schemas.map((s) => ajv.getSchema(s.$id) as ValidateFunction),
  };
}

const PLACES = {
  run: facetValidators('run'),
  job: facetValidators('job'),
  input: facetValidators('input'),
  output: facetValidators('output'),
};

/** The problems of one event, empty when it validates: the run event's and each facet's. */
export function lineageProblems(event: unknown): string[] {
  const problems: string[] = [];
  if (!validateEvent(event)) problems.push(...describe('event', validateEvent));
  const e = event as {
    run?: { facets?: Record<string, unknown> };
    job?: { facets?: Record<string, unknown> };
    inputs?: { inputFacets?: Record<string, unknown> }[];
    outputs?: { outputFacets?: Record<string, unknown> }[];
  };
  const check = (place: keyof typeof PLACES, facets: Record<string, unknown> | undefined, where: string) => {
    if (facets === undefined) return;
    const { names, checks } = PLACES[place];
    for (const name of Object.keys(facets)) {
      if (!names.has(name))
        problems.push(`${where}.${name}: no facet schema of the specification describes it`);
    }
    for (const validate of checks) if (!validate(facets)) problems.push(...describe(where, validate));
  };
  check('run', e.run?.facets, 'run.facets');
  check('job', e.job?.facets, 'job.facets');
  e.inputs?.forEach((d, i) => {
    check('input', d.inputFacets, `inputs[${i}].inputFacets`);
  });
  e.outputs?.forEach((d, i) => {
    check('output', d.outputFacets, `outputs[${i}].outputFacets`);
  });
  return problems;
}

function describe(where: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map(
    (err) => `${where}${err.instancePath}: ${err.message} (${err.schemaPath})`,
  );
}

/** The facet schema files' ids, for a test that the events name the schemas they follow. */
export const FACET_SCHEMA_IDS = facetSchemas.map((s) => s.$id);
export const RUN_EVENT_SCHEMA_ID = core.$id;
