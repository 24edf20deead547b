// The shop terminal process, assembled: journal, credential, reference cache, sync worker, print
// queue and the clerk's web UI on 127.0.0.1. `startTerminal` is what `npm run terminal` and the tests run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquireDirLock, type DirLock } from '../../src/db/dir-lock.js';
import { PrintQueue, TcpPrinterTransport } from '../printing/index.js';
import type { TerminalConfig } from './config.js';
import { Counter, type TerminalIdentity } from './counter.js';
import { readJson, writeJsonDurably } from './durable-file.js';
import { Journal } from './journal.js';
import { DEFAULT_TIME_ZONE } from '../../src/shared/business-day.js';
import { ReferenceCache, type Snapshot } from './reference-cache.js';
import { CredentialRejectedError, ServerClient } from './server-client.js';
import { SyncWorker, type ResendCounts } from './sync-worker.js';
import { startUiServer, type UiServer } from './ui-server.js';
import { BagDesk } from './bags.js';
import { HeldPayoutDesk } from './held-payouts.js';
import { PointsDesk } from './points-desk.js';
import { DeviceBridge } from './device-bridge.js';
import { DeviceService } from '../hid/service.js';
import { loadServiceConfig } from '../hid/device-config.js';

export interface TerminalState extends TerminalIdentity {
  serverUrl: string;
  credential: string;
  enrolledAt: string;
  /** Set when the server refused the credential (revoked): syncing stops until a new enrolment. */
  stopped: { code: string; message: string; message_zh: string; at: string } | null;
}

export interface RunningTerminal {
  url: string;
  config: TerminalConfig;
  journal: Journal;
  worker: SyncWorker;
  counter: Counter;
  bags: BagDesk;
  heldPayouts: HeldPayoutDesk;
  points: PointsDesk;
  /** The device service events come from (in process; also what POST /replay plays into). */
  devices: DeviceService;
  bridge: DeviceBridge;
  printer: PrintQueue | null;
  state(): TerminalState | null;
  reference(): ReferenceCache | null;
  enrol(code: string, serverUrl?: string): Promise<TerminalState>;
  stop(): Promise<void>;
}

export interface StartOptions {
  now?: () => Date;
  /** Start the sync worker at once (default true). */
  autoSync?: boolean;
  /** An in-process device service to take events from (tests); default: from config.hidConfig, or one for replays only. */
  devices?: DeviceService;
  /** Counting-machine lane -> product id, for containers counted without a code (wins over config.laneProducts). */
  laneProducts?: Record<number, string>;
  /**
   * How long a return waits, online, for the county server's answer before its receipt prints with the
   * terminal's own incentive estimate (issue 17; default 4000 ms; 0: never wait).
   */
  answerWaitMs?: number;
}

export async function startTerminal(config: TerminalConfig, opts: StartOptions = {}): Promise<RunningTerminal> {
  const now = opts.now ?? (() => new Date());
  await fs.mkdir(config.dataDir, { recursive: true });
  // Two terminal processes on one journal would each send and mark records: refuse the second.
  const lock: DirLock = acquireDirLock(config.dataDir);
  const stateFile = path.join(config.dataDir, 'terminal.json');
  const refFile = path.join(config.dataDir, 'reference.json');
  const resendFile = path.join(config.dataDir, 'resend.json');
  let resendDone = await readJson<{ id: string; at: string; counts: ResendCounts }>(resendFile);
  let state = await readJson<TerminalState>(stateFile);
  const cached = await readJson<{ snapshot: Snapshot; fetchedAt: string }>(refFile);
  let reference = cached ? new ReferenceCache(cached.snapshot, cached.fetchedAt) : null;
  const journal = await Journal.open(config.dataDir, {
    maxLiveRecords: config.journalMaxRecords, archiveAfterMs: config.journalArchiveAfterDays * 86_400_000, now,
    timeZone: () => reference?.timeZone ?? DEFAULT_TIME_ZONE,
  });
  const printer = config.printer
    ? await PrintQueue.open({ dir: path.join(config.dataDir, 'print-jobs'), transport: new TcpPrinterTransport({ host: config.printer.host, port: config.printer.port }) })
    : null;

  let client: ServerClient | null = null;
  const clientFor = (s: TerminalState | null) => (s && !s.stopped ? new ServerClient(s.serverUrl, s.credential) : null);
  client = clientFor(state);

  const refreshReference = async (c: ServerClient): Promise<void> => {
    // Typed by the server's OpenAPI document: an answer that no longer fits Snapshot fails tsc here.
    const snapshot: Snapshot = await c.snapshot();
    const fetchedAt = now().toISOString();
    await writeJsonDurably(refFile, { snapshot, fetchedAt });
    reference = new ReferenceCache(snapshot, fetchedAt);
    // The county decides how long synced records stay on the shop PC (long enough to help a restore).
    if (snapshot.terminalJournalKeepDays) await journal.pruneArchives(Math.max(snapshot.terminalJournalKeepDays, config.journalArchiveAfterDays));
  };

  const worker: SyncWorker = new SyncWorker({
    journal,
    client: () => client,
    batchSize: config.batchSize,
    idleIntervalMs: config.syncIntervalMs,
    initialBackoffMs: config.initialBackoffMs,
    maxBackoffMs: config.maxBackoffMs,
    now,
    refreshReference,
    resend: {
      pending: () => {
        const r = reference?.snapshot.resend;
        return r && r.id !== resendDone?.id ? r : null;
      },
      done: async (id, counts) => {
        resendDone = { id, at: now().toISOString(), counts };
        await writeJsonDurably(resendFile, resendDone);
      },
    },
    onCredentialRejected: async (err: CredentialRejectedError) => {
      if (!state) return;
      state = { ...state, stopped: { code: err.code, message: err.message, message_zh: err.message_zh ?? '服务器拒绝了本终端的凭证', at: now().toISOString() } };
      await writeJsonDurably(stateFile, state);
      client = null;
    },
  });

  const counter = new Counter(
    journal,
    () => state,
    () => reference,
    printer,
    config.paper,
    now,
    () => worker.kick(),
    () => (state?.stopped ? { code: state.stopped.code, message: `This terminal can no longer record: ${state.stopped.message}`, message_zh: `本终端已停止使用：${state.stopped.message_zh}` } : null),
  );

  async function enrol(code: string, serverUrl?: string): Promise<TerminalState> {
    const url = (serverUrl?.trim() || config.serverUrl || '').replace(/\/$/, '');
    if (!url) throw Object.assign(new Error('no server URL: set SERVER_URL or give it on the enrolment screen'), { code: 'SERVER_URL_MISSING' });
    const got = await new ServerClient(url, null).enrol(code);
    const next: TerminalState = { ...got, serverUrl: url, enrolledAt: now().toISOString(), stopped: null };
    await writeJsonDurably(stateFile, next);
    state = next;
    client = clientFor(state);
    // Fetch products and deposits straight away so the counter can sell.
    try {
      await refreshReference(client!);
    } catch {
      /* the worker retries */
    }
    worker.kick();
    return next;
  }

  const bags = new BagDesk(journal, counter, () => reference, printer, config.paper, now, async () => {
    if (!client || !state) throw new Error('not enrolled');
    return (await client.openManifests(state.countyId)).items;
  });

  const heldPayouts = await HeldPayoutDesk.open(config.dataDir, counter, () => client, printer, config.paper, now);
  counter.heldPaidOn = (day) => heldPayouts.paidOn(day);
  const points = await PointsDesk.open(config.dataDir, counter, journal, () => client, printer, config.paper, now);
  counter.pointsRedeemedOn = (day) => points.redeemedOn(day);
  // Online, a return waits a moment for the server's answer (its incentives, points and balance) before printing.
  const answerWaitMs = opts.answerWaitMs ?? 4000;
  counter.awaitAnswer = async (id) => {
    if (!client || answerWaitMs <= 0 || worker.view().online === false) return null;
    worker.kick();
    const until = Date.now() + answerWaitMs;
    for (;;) {
      const e = journal.get(id);
      if (e && (e.state === 'synced' || e.state === 'refused')) return e;
      if (Date.now() >= until || worker.view().online === false) return null;
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  // A receipt from another shop of the county: the server finds the sale by its printed number.
  counter.remoteSaleByReceipt = async (no) => {
    if (!client || !state) throw new Error('not enrolled');
    return (await client.saleByReceipt(state.countyId, no)).items;
  };

  // Devices: the service given, one from the HID config (live devices), or one for replays only.
  const ownDevices = !opts.devices;
  const devices = opts.devices ?? new DeviceService(config.hidConfig ? loadServiceConfig(config.hidConfig) : { devices: [] });
  const laneProducts = opts.laneProducts ?? config.laneProducts ?? undefined;
  const bridge = new DeviceBridge({ reference: () => reference, ...(laneProducts ? { laneProducts } : {}) });
  bridge.attach(devices);
  if (config.hidEventsUrl) bridge.connect(config.hidEventsUrl);
  if (ownDevices && config.hidConfig) {
    // No device (or no libusb) is not a reason to stop selling: the status says what is missing.
    devices.startLive().catch(() => undefined);
  }

  let ui: UiServer;
  try {
    ui = await startUiServer({
      port: config.uiPort, journal, counter, bags, heldPayouts, points, devices, bridge, replayToken: config.hidReplayToken, worker, printer,
      state: () => state, reference: () => reference, enrol, serverUrl: () => state?.serverUrl ?? config.serverUrl,
    });
  } catch (err) {
    bridge.close();
    if (ownDevices) await devices.close();
    await journal.close();
    await printer?.close();
    lock.release();
    throw err;
  }
  if (opts.autoSync !== false) worker.start();

  return {
    url: ui.url, config, journal, worker, counter, bags, heldPayouts, points, devices, bridge, printer,
    state: () => state,
    reference: () => reference,
    enrol,
    async stop() {
      await ui.close();
      bridge.close();
      if (ownDevices) await devices.close();
      await worker.stop();
      await printer?.close();
      await journal.close();
      lock.release();
    },
  };
}
