// Run as a child process: one send to a port nothing listens on, with a 30 s connect timeout. The
// process must exit as soon as the refusal arrives; a leftover timer would keep it alive for 30 s.
import { TcpPrinterTransport } from '../../../../terminals/printing/transport.js';

const port = Number(process.argv[2]);
const transport = new TcpPrinterTransport({ host: '127.0.0.1', port, connectTimeoutMs: 30_000, sendTimeoutMs: 60_000 });
transport.send(Buffer.from([0x1b, 0x40])).then(
  () => console.log('sent'),
  (err: { code?: string }) => console.log(err.code),
);
