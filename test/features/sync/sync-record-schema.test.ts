// The sync batch in the OpenAPI document types each record's payload by its kind (oneOf by `kind`),
// from the schemas the records are validated with before their services (KIND_HANDLERS). A record
// the document accepts passes that validation; what the document refuses (a payload repeating id or
// eventTime, a payload of another kind, a bag action without its fields) the service refuses too.
import { expect } from 'chai';
import { allRoutes } from '../../../src/http/routes.js';
import { buildOpenApi } from '../../../src/http/openapi.js';
import { compile } from '../../../src/http/validation.js';
import { exampleFor } from '../../../src/shared/schemas/example.js';
import type { JsonSchema } from '../../../src/shared/schemas/builders.js';
import { KIND_HANDLERS } from '../../../src/features/sync/sync-service.js';
import { SYNC_BATCH, SYNC_KINDS } from '../../../src/features/sync/sync-schemas.js';
import { SYNC_BATCH_DOCUMENTED } from '../../../src/features/sync/sync-record-schema.js';

type Rec = { kind: string; id: string; eventTime: string; payload: Record<string, unknown> };

/** What the sync service checks of a record's payload before its service (SyncService.prepare). */
function serviceAccepts(rec: Rec): boolean {
  const h = KIND_HANDLERS[rec.kind as keyof typeof KIND_HANDLERS]!;
  if ('id' in rec.payload || 'eventTime' in rec.payload) return false;
  const body = { ...rec.payload, id: rec.id, eventTime: rec.eventTime };
  try {
    return compile(typeof h.schema === 'function' ? h.schema(body) : h.schema)(body) === true;
  } catch {
    return false; // a bag event naming no known action
  }
}

describe('sync batch: record payloads typed by kind in the OpenAPI document', () => {
  const doc = buildOpenApi(allRoutes(), 'test') as { paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: JsonSchema; example: unknown }> } }>> };
  const op = doc.paths['/api/v1/sync/batches']!.post!;
  const documented = op.requestBody.content['application/json']!.schema;
  const branches = ((documented.properties as { records: { items: { oneOf: JsonSchema[] } } }).records.items.oneOf);
  const docAccepts = compile(documented);
  const batch = (...records: Rec[]) => ({ batchId: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0d', records });
  const example = (kind: string): Rec => exampleFor(branches.find((b) => (b.properties as { kind: { enum: string[] } }).kind.enum[0] === kind)!) as Rec;

  it('has one record shape per kind, and the document shows the typed batch', () => {
    expect(documented).to.deep.equal(SYNC_BATCH_DOCUMENTED);
    expect(branches.map((b) => (b.properties as { kind: { enum: string[] } }).kind.enum)).to.deep.equal(SYNC_KINDS.map((k) => [k]));
    for (const b of branches) expect((b.properties as { payload: JsonSchema }).payload, JSON.stringify(b.properties)).to.not.deep.equal({ type: 'object' });
    expect(docAccepts(op.requestBody.content['application/json']!.example)).to.equal(true);
  });

  it('a record of each kind the document accepts passes the validation its service runs, and the batch validation', () => {
    for (const kind of SYNC_KINDS) {
      const rec = example(kind);
      expect(docAccepts(batch(rec)), `${kind}: ${JSON.stringify(docAccepts.errors)}`).to.equal(true);
      expect(serviceAccepts(rec), `${kind}: ${JSON.stringify(rec)}`).to.equal(true);
      expect(compile(SYNC_BATCH)(batch(rec))).to.equal(true);
    }
  });

  it('what the document refuses, the service refuses too (while the batch as a whole stays valid)', () => {
    const refusedBoth = (what: string, rec: Rec) => {
      expect(docAccepts(batch(rec)), what).to.equal(false);
      expect(serviceAccepts(rec), what).to.equal(false);
      expect(compile(SYNC_BATCH)(batch(rec)), `${what}: the batch is judged per record`).to.equal(true);
    };
    for (const kind of SYNC_KINDS) {
      const rec = example(kind);
      refusedBoth(`${kind} payload repeating id`, { ...rec, payload: { ...rec.payload, id: rec.id } });
      refusedBoth(`${kind} payload repeating eventTime`, { ...rec, payload: { ...rec.payload, eventTime: rec.eventTime } });
      refusedBoth(`${kind} payload with an unknown field`, { ...rec, payload: { ...rec.payload, colour: 'red' } });
      for (const other of SYNC_KINDS.filter((k) => k !== kind)) refusedBoth(`${kind} payload sent as ${other}`, { ...rec, kind: other });
    }
    const seal = { kind: 'bag-event', id: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0e', eventTime: '2026-03-01T02:00:00.000Z', payload: { action: 'seal', bagId: '01960f3c-8a2e-7b41-9c3d-5e6f7a8b9c0f', sealNo: 'S-001' } };
    expect(docAccepts(batch(seal))).to.equal(true);
    expect(serviceAccepts(seal)).to.equal(true);
    const { sealNo: _s, ...noSeal } = seal.payload;
    refusedBoth('a seal without its seal number', { ...seal, payload: noSeal });
    refusedBoth('a bag event naming no known action', { ...seal, payload: { ...seal.payload, action: 'burn' } });
  });
});
