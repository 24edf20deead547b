import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { sseEvents } from '../../../terminals/pos/sse-reader.js';
import { startEventServer, type EventServer } from '../../../terminals/hid/http-server.js';
import { DeviceService } from '../../../terminals/hid/service.js';

const FIXTURE = readFileSync(new URL('../../fixtures/hid/counting-machine-stream.jsonl', import.meta.url), 'utf8');
const TOKEN = 'test-token';

/** Reads SSE messages from GET /events until `until` says stop. */
async function readEvents(url: string, until: (events: Array<{ event: string; data: Record<string, unknown> }>) => boolean, onOpen: () => Promise<void>) {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  await onOpen();
  if (!until(events)) {
    for await (const e of sseEvents(res.body as ReadableStream<Uint8Array>)) {
      events.push({ event: e.event, data: JSON.parse(e.data) as Record<string, unknown> });
      if (until(events)) break;
    }
  }
  controller.abort();
  return events;
}

describe('device events over HTTP (GET /events as Server-Sent Events, POST /replay)', () => {
  let service: DeviceService;
  let server: EventServer;

  beforeEach(async () => {
    service = new DeviceService({ devices: [] });
    server = await startEventServer(service, { port: 0, replayToken: TOKEN, allowOrigins: ['http://127.0.0.1:3000'] });
  });
  afterEach(async () => {
    await server.close();
    await service.close();
  });

  it('streams the events of a file posted to /replay to an SSE subscriber', async () => {
    let accepted: unknown;
    const events = await readEvents(`${server.url}/events`, (es) => es.some((e) => e.event === 'report_error'), async () => {
      const res = await fetch(`${server.url}/replay?speed=0`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: FIXTURE });
      expect(res.status).to.equal(202);
      accepted = await res.json();
    });
    expect(accepted).to.deep.include({ records: 12, devices: ['counter'] });
    const types = events.map((e) => e.event);
    expect(types.filter((t) => t === 'count')).to.have.length(5);
    expect(types).to.include.members(['sequence_gap', 'sequence_repeat', 'machine_fault']);
    expect(events.find((e) => e.event === 'count')?.data).to.include({ type: 'count', deviceKey: 'counter', replayed: true, totalCount: 42 });
  });

  it('filters the stream with ?types=', async () => {
    const events = await readEvents(`${server.url}/events?types=sequence_gap`, (es) => es.length >= 1, async () => {
      await fetch(`${server.url}/replay?speed=0`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: FIXTURE });
    });
    expect(events.map((e) => e.event)).to.deep.equal(['sequence_gap']);
  });

  it('refuses replay without the token, and a bad file', async () => {
    expect((await fetch(`${server.url}/replay`, { method: 'POST', body: FIXTURE })).status).to.equal(401);
    const bad = await fetch(`${server.url}/replay`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` }, body: '{"t_ms":0}\n' });
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.include({ error: 'bad_replay_file' });
  });

  it('lets only configured origins read events from a browser', async () => {
    const allowed = await fetch(`${server.url}/status`, { headers: { Origin: 'http://127.0.0.1:3000' } });
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:3000');
    const other = await fetch(`${server.url}/status`, { headers: { Origin: 'http://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).to.equal(null);
    expect(await other.json()).to.deep.equal({ devices: [] });
  });

  it('has replay switched off when no token is configured', async () => {
    const s2 = await startEventServer(service, { port: 0 });
    try {
      expect((await fetch(`${s2.url}/replay`, { method: 'POST', body: FIXTURE })).status).to.equal(403);
    } finally {
      await s2.close();
    }
  });
});
