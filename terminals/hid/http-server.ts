// Local delivery to the POS terminal: GET /events streams DeviceEvents as Server-Sent Events,
// GET /status lists devices, POST /replay plays a recorded file into the running service.
// Listens on 127.0.0.1 by default: device events are for this machine's terminal only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceConfig } from './device-config.js';
import type { DeviceEvent } from './events.js';
import { parseReplayFile } from './replay-file.js';
import type { DeviceService } from './service.js';

export const DEFAULT_HID_PORT = 7431;
const MAX_REPLAY_BYTES = 10 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

export interface EventServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startEventServer(service: DeviceService, options: NonNullable<ServiceConfig['http']> = {}): Promise<EventServer> {
  const allowOrigins = new Set(options.allowOrigins ?? []);
  const clients = new Set<ServerResponse>();
  let nextId = 1;

  const send = (res: ServerResponse, id: number, e: DeviceEvent) => {
    res.write(`id: ${id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  const onEvent = (e: DeviceEvent) => {
    const id = nextId++;
    for (const res of clients) {
      const types = (res as ServerResponse & { types?: Set<string> }).types;
      if (types === undefined || types.has(e.type)) send(res, id, e);
    }
  };
  service.on('event', onEvent);

  const cors = (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin !== undefined && (allowOrigins.has(origin) || allowOrigins.has('*'))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    cors(req, res);
    if (req.method === 'GET' && url.pathname === '/events') return openStream(req, res, url);
    if (req.method === 'GET' && url.pathname === '/status') return json(res, 200, { devices: service.deviceStatuses() });
    if (req.method === 'POST' && url.pathname === '/replay') return void replay(req, res, url);
    json(res, 404, { error: 'not_found', detail: 'routes: GET /events, GET /status, POST /replay' });
  });

  const openStream = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    req.socket.setNoDelay(true); // each event is small and must not wait for the next
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const typesParam = url.searchParams.get('types');
    if (typesParam) (res as ServerResponse & { types?: Set<string> }).types = new Set(typesParam.split(','));
    res.write('retry: 2000\n\n');
    // A new subscriber first learns what is connected.
    for (const s of service.deviceStatuses()) {
      res.write(`event: device_status\ndata: ${JSON.stringify({ deviceKey: s.deviceKey, at_ms: s.since_ms, replayed: s.status === 'replay', type: 'device_status', status: s.status, detail: s.detail })}\n\n`);
    }
    clients.add(res);
    const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    res.on('close', () => {
      clearInterval(keepalive);
      clients.delete(res);
    });
  };

  const replay = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    // A token in a header a plain cross-site form cannot send: a web page open on the terminal
    // must not be able to inject scans.
    if (!options.replayToken) return json(res, 403, { error: 'replay_disabled', detail: 'set http.replayToken in the config to enable POST /replay' });
    if (req.headers.authorization !== `Bearer ${options.replayToken}`) return json(res, 401, { error: 'unauthorized', detail: 'Authorization: Bearer <replayToken> required' });
    const speed = Number(url.searchParams.get('speed') ?? '1');
    if (!(speed >= 0)) return json(res, 400, { error: 'bad_speed', detail: 'speed must be a number >= 0' });
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      return json(res, 413, { error: 'too_large', detail: (err as Error).message });
    }
    try {
      const file = parseReplayFile(text);
      void service.replay(file, { speed, name: `replay:http` }).catch(() => undefined);
      const last = file.records[file.records.length - 1];
      json(res, 202, { records: file.records.length, devices: file.devices.map((d) => d.key), duration_ms: speed === 0 ? 0 : Math.round((last?.t_ms ?? 0) / speed) });
    } catch (err) {
      json(res, 400, { error: 'bad_replay_file', detail: (err as Error).message });
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_HID_PORT, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        service.off('event', onEvent);
        for (const res of clients) res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REPLAY_BYTES) {
        reject(new Error(`replay file over ${MAX_REPLAY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
