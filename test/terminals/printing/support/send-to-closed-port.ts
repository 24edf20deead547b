// Run as a child process: one send to a port nothing listens on, with a 10-minute connect timeout.
// The process must exit as soon as the refusal arrives; a leftover timer would keep it alive 10 minutes.
import { TcpPrinterTransport } from '../../../../terminals/printing/transport.js';

const port = Number(process.argv[2]);
const transport = new TcpPrinterTransport({ host: '127.0.0.1', port, connectTimeoutMs: 600_000, sendTimeoutMs: 900_000 });
transport.send(Buffer.from([0x1b, 0x40])).then(
  () => console.log('sent'),
  (err: { code?: string }) => console.log(err.code),
);
