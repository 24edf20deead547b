// `npm run hid -- <command>`: list HID devices, record one device's raw reports to a replay file,
// replay a file (decoded here, or into a running terminal), or serve devices to the POS terminal.
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type DeviceConfig, type DeviceMatch, loadServiceConfig, parseDeviceConfig } from './device-config.js';
import type { DeviceKind } from './events.js';
import { DEFAULT_HID_PORT, startEventServer } from './http-server.js';
import { describeDevice, describeMatch, loadNodeHid, matchesDevice } from './node-hid-source.js';
import { parseReplayFile, replayHeaderLine, replayRecordLine } from './replay-file.js';
import { DeviceService } from './service.js';

const USAGE = `usage: hid <command>
  list                                   list HID devices
  record --vendor ID --product ID [--usage-page P] [--interface N]
         [--kind keyboard|hid-pos|scale|counting-machine] [--key NAME] [--profile P] --out FILE
                                         record raw reports until Ctrl+C
  replay FILE [--to http://127.0.0.1:${DEFAULT_HID_PORT}] [--speed N] [--token T]
                                         decode FILE here and print events, or send it to a running service
  serve --config FILE [--port N]         run the device service (GET /events, GET /status, POST /replay)`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(value)) fail(`--${name}: expected a number like 0x0c2e or 3118, got "${value}"`);
  return Number(value);
}

async function list(): Promise<void> {
  let devices;
  try {
    devices = await loadNodeHid().devicesAsync();
  } catch (err) {
    fail(`cannot list HID devices: ${(err as Error).message}\n(node-hid needs the system library libusb-1.0-0)`, 1);
  }
  if (devices.length === 0) {
    console.log('no HID devices found');
    return;
  }
  for (const d of devices) console.log(`${describeDevice(d)}  usage 0x${(d.usage ?? 0).toString(16)} interface ${d.interface}`);
}

async function record(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      vendor: { type: 'string' },
      product: { type: 'string' },
      'usage-page': { type: 'string' },
      interface: { type: 'string' },
      kind: { type: 'string', default: 'keyboard' },
      key: { type: 'string', default: 'device-1' },
      profile: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.out === undefined) fail('record: --out FILE is required');
  const match: DeviceMatch = {};
  for (const [field, opt] of [['vendorId', 'vendor'], ['productId', 'product'], ['usagePage', 'usage-page'], ['interface', 'interface']] as const) {
    const v = int(values[opt], opt);
    if (v !== undefined) match[field] = v;
  }
  if (match.vendorId === undefined && match.usagePage === undefined) fail('record: give --vendor and --product, or --usage-page');
  const device: DeviceConfig = parseDeviceConfig({
    key: values.key,
    kind: values.kind as DeviceKind,
    match,
    ...(values.profile ? { hidPos: { profile: values.profile } } : {}),
  });

  const hid = loadNodeHid();
  const info = (await hid.devicesAsync()).find((d) => matchesDevice(d, match) && d.path !== undefined);
  if (info === undefined) fail(describeMatch(match), 1);
  const handle = await hid.HIDAsync.open(info.path as string);
  const out = createWriteStream(values.out);
  out.write(replayHeaderLine([device]) + '\n');
  const start = Date.now();
  let n = 0;
  console.error(`recording ${describeDevice(info)} to ${values.out}; Ctrl+C to stop`);
  handle.on('data', (data: Buffer) => {
    out.write(replayRecordLine({ t_ms: Date.now() - start, device: device.key, bytes: new Uint8Array(data) }) + '\n');
    if (++n % 50 === 0) console.error(`${n} reports`);
  });
  handle.on('error', (err: Error) => console.error(`device error: ${err.message}`));
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  await handle.close();
  await new Promise<void>((resolve) => out.end(resolve));
  console.error(`${n} reports written to ${values.out}`);
}

async function replay(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { to: { type: 'string' }, speed: { type: 'string', default: '1' }, token: { type: 'string' } },
  });
  const path = positionals[0];
  if (path === undefined) fail('replay: FILE is required');
  const speed = Number(values.speed);
  if (!(speed >= 0)) fail('replay: --speed must be a number >= 0 (0 = no waiting)');
  const text = readFileSync(path, 'utf8');
  const file = parseReplayFile(text); // fail here, not in the terminal, on a bad file

  if (values.to !== undefined) {
    const token = values.token ?? process.env.AGRIRETURN_HID_REPLAY_TOKEN;
    const res = await fetch(new URL(`/replay?speed=${speed}`, values.to), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-ndjson', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: text,
    });
    const body = await res.text();
    if (!res.ok) fail(`replay rejected (${res.status}): ${body}`, 1);
    console.log(`replaying into ${values.to}: ${body}`);
    return;
  }
  const service = new DeviceService({ devices: file.devices });
  service.on('event', (e) => console.log(JSON.stringify(e)));
  await service.replay(file, { speed, name: `replay:${path}` });
  await service.close();
}

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, port: { type: 'string' } } });
  if (values.config === undefined) fail('serve: --config FILE is required');
  const config = loadServiceConfig(values.config);
  const port = int(values.port, 'port');
  const http = { ...config.http, ...(port === undefined ? {} : { port }) };
  const service = new DeviceService(config);
  service.on('device_status', (e) => console.error(`[${e.deviceKey}] ${e.status}: ${e.detail}`));
  service.on('report_error', (e) => console.error(`[${e.deviceKey}] report error ${e.reason}: ${e.detail} ${e.hex}`));
  const server = await startEventServer(service, http);
  console.error(`device events at ${server.url}/events${http.replayToken ? '; POST /replay enabled' : ''}`);
  await service.startLive();
  const stop = async () => {
    await server.close();
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

const [command, ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case 'list':
      await list();
      break;
    case 'record':
      await record(rest);
      break;
    case 'replay':
      await replay(rest);
      break;
    case 'serve':
      await serve(rest);
      break;
    default:
      fail(USAGE);
  }
} catch (err) {
  fail(`hid ${command}: ${(err as Error).message}`, 1);
}

