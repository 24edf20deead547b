// Generates the OpenAPI 3.1 document from the route definitions and the very JSON Schemas ajv
// validates with, so the document cannot drift from what the server accepts.
import type { RouteDef } from './route.js';
import type { JsonSchema } from '../shared/schemas/builders.js';
import { ERROR_CATALOGUE } from './errors.js';
import { PERMISSIONS } from '../auth/permissions.js';

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

/** Headers every answer of a deprecated alias carries (src/http/county-paths.ts). */
const DEPRECATION_HEADERS = {
  Deprecation: { description: 'When this path was deprecated (RFC 9745), e.g. @1795996800', schema: { type: 'string' } },
  Sunset: { description: 'When this path goes away (RFC 8594), an HTTP-date', schema: { type: 'string' } },
  Link: { description: 'The successor path: <…>; rel="successor-version"', schema: { type: 'string' } },
};

function toOpenApiPath(p: string): string {
  return p.replace(/:([A-Za-z]+)/g, '{$1}');
}

function parametersFrom(schema: JsonSchema | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name, in: where, required: where === 'path' ? true : required.has(name), schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

export function buildOpenApi(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = toOpenApiPath(r.path);
    paths[p] ??= {};
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = {
        description: res.description,
        ...(r.deprecated ? { headers: DEPRECATION_HEADERS } : {}),
        ...(res.schema || res.contentType
          ? { content: { [res.contentType ?? 'application/json']: { schema: res.schema ?? { type: 'string' } } } }
          : Number(status) >= 400 ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } : {}),
      };
    }
    responses.default = { description: 'An error; see docs/errors.md', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    const permission = typeof r.auth === 'object' ? r.auth.permission : null;
    paths[p][r.method] = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      operationId: `${r.method}_${r.path.replace(/^\/api\/v1\//, '').replace(/[/:{}-]+/g, '_').replace(/_$/, '')}`,
      ...(r.deprecated ? { deprecated: true } : {}),
      ...(r.auth === 'public' ? { security: [] } : {}),
      ...(permission ? { 'x-permission': permission, 'x-permission-description': PERMISSIONS[permission] } : {}),
      parameters: [...parametersFrom(r.params, 'path'), ...parametersFrom(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: r.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agrireturn county server',
      version,
      description: 'Deposit-return of empty pesticide packaging: reference data, deposits, refunds and custody of a county. Errors: docs/errors.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A user access token (JWT from /api/v1/auth/login) or a terminal credential (agt_…)' },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
