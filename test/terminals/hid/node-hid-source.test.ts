import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { DeviceEvent } from '../../../terminals/hid/events.js';
import { encodeKeyboardScan } from '../../../terminals/hid/keyboard-encoder.js';
import { loadNodeHid, type NodeHidSourceOptions } from '../../../terminals/hid/node-hid-source.js';
import { DeviceService } from '../../../terminals/hid/service.js';

const SCANNER = { key: 'scanner-1', kind: 'keyboard' as const, match: { vendorId: 0x0c2e, productId: 0x0b61 } };

function waitFor<T extends DeviceEvent['type']>(service: DeviceService, type: T, pred: (e: Extract<DeviceEvent, { type: T }>) => boolean = () => true, timeout_ms = 15_000) {
  return new Promise<Extract<DeviceEvent, { type: T }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within ${timeout_ms} ms`)), timeout_ms);
    const listener = (e: Extract<DeviceEvent, { type: T }>) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      service.off(type, listener);
      resolve(e);
    };
    service.on(type, listener);
  });
}

describe('node-hid device source', () => {
  it('starts with no device attached and reports "no device" (real node-hid)', async function () {
    try {
      createRequire(import.meta.url)('node-hid').devices();
    } catch (err) {
      const message = `node-hid cannot list devices (${(err as Error).message}); is libusb-1.0-0 installed?`;
      if (process.env.CI === 'true') throw new Error(`${message} CI must have it.`);
      console.warn(`\n  !!! SKIPPING the real node-hid test: ${message}\n`);
      this.skip();
    }
    // No test machine has this device.
    const service = new DeviceService({ devices: [{ ...SCANNER, match: { vendorId: 0xfeed, productId: 0xbeef } }], pollInterval_ms: 50 });
    const status = waitFor(service, 'device_status');
    await service.startLive();
    expect(await status).to.include({ deviceKey: 'scanner-1', status: 'no_device', replayed: false });
    expect((await status).detail).to.match(/no device with vendorId 0xfeed, productId 0xbeef/);
    expect(service.deviceStatuses()).to.deep.include.members([{ deviceKey: 'scanner-1', kind: 'keyboard', status: 'no_device', detail: (await status).detail, since_ms: (await status).at_ms }]);
    await service.close();
  });

  it('loads node-hid lazily', () => {
    expect(loadNodeHid().devicesAsync).to.be.a('function');
  });

  describe('with a stand-in for node-hid', () => {
    // What node-hid would list and open: tests plug and unplug by editing `attached`.
    let attached: Array<{ vendorId: number; productId: number; path: string; release: number; interface: number; usagePage?: number; product?: string }>;
    let handles: Array<EventEmitter & { close(): Promise<void> }>;
    let listFails: Error | null;
    const fakeHid = () =>
      ({
        devicesAsync: async () => {
          if (listFails) throw listFails;
          return attached;
        },
        HIDAsync: {
          open: async () => {
            const h = Object.assign(new EventEmitter(), { close: async () => undefined });
            handles.push(h);
            return h;
          },
        },
      }) as unknown as NonNullable<NodeHidSourceOptions['hid']>;

    beforeEach(() => {
      attached = [];
      handles = [];
      listFails = null;
    });

    it('reads a device, survives unplug and replug, and says what is connected', async () => {
      const service = new DeviceService({ devices: [SCANNER], pollInterval_ms: 20 });
      const statuses: string[] = [];
      service.on('device_status', (e: Extract<DeviceEvent, { type: 'device_status' }>) => statuses.push(e.status));
      const noDevice = waitFor(service, 'device_status');
      await service.startLive({ hid: fakeHid() });
      expect(await noDevice).to.include({ status: 'no_device' });

      attached.push({ vendorId: 0x0c2e, productId: 0x0b61, path: '/dev/hidraw3', release: 1, interface: 0, product: 'Scanner' });
      await waitFor(service, 'device_status', (e) => e.status === 'connected');
      const scan = waitFor(service, 'scan');
      for (const r of encodeKeyboardScan('BAG-1')) handles[0]?.emit('data', Buffer.from(r));
      expect((await scan).text).to.equal('BAG-1');

      // Unplugged halfway through a scan: the half is reported, then the device comes back.
      attached = [];
      for (const r of encodeKeyboardScan('BAG-2', { terminator: null })) handles[0]?.emit('data', Buffer.from(r));
      const misread = waitFor(service, 'misread');
      const disconnected = waitFor(service, 'device_status', (e) => e.status === 'disconnected');
      handles[0]?.emit('error', new Error('could not read from HID device'));
      expect(await misread).to.include({ reason: 'unterminated', raw: 'BAG-2' });
      expect((await disconnected).detail).to.match(/could not read/);

      attached.push({ vendorId: 0x0c2e, productId: 0x0b61, path: '/dev/hidraw4', release: 1, interface: 0 });
      await waitFor(service, 'device_status', (e) => e.status === 'connected');
      const again = waitFor(service, 'scan');
      for (const r of encodeKeyboardScan('BAG-3')) handles[1]?.emit('data', Buffer.from(r));
      expect((await again).text).to.equal('BAG-3');
      expect(statuses).to.deep.equal(['no_device', 'connected', 'disconnected', 'connected']);
      await service.close();
    });

    it('finds a device by usage page alone', async () => {
      attached.push({ vendorId: 0x1234, productId: 0x5678, path: 'p', release: 1, interface: 0, usagePage: 0x8d });
      const service = new DeviceService({ devices: [{ key: 'scale', kind: 'scale', match: { usagePage: 0x8d } }], pollInterval_ms: 20 });
      const connected = waitFor(service, 'device_status');
      await service.startLive({ hid: fakeHid() });
      expect(await connected).to.include({ status: 'connected' });
      await service.close();
    });

    it('reports an error status instead of crashing when devices cannot be listed', async () => {
      listFails = new Error('libusb-1.0.so.0: cannot open shared object file');
      const service = new DeviceService({ devices: [SCANNER], pollInterval_ms: 20 });
      const status = waitFor(service, 'device_status');
      await service.startLive({ hid: fakeHid() });
      expect(await status).to.include({ status: 'error' });
      expect((await status).detail).to.match(/libusb/);
      await service.close();
    });
  });
});
