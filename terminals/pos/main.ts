// `npm run terminal`: the shop's POS terminal. Prints where the clerk's screen is; stops cleanly on
// SIGTERM/SIGINT (the journal is already durable, so a hard kill loses nothing either).
import { loadTerminalConfig, TerminalConfigError } from './config.js';
import { startTerminal } from './terminal.js';
import { DirLockedError } from '../../src/db/dir-lock.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadTerminalConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof TerminalConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  let t;
  try {
    t = await startTerminal(config);
  } catch (err) {
    if (err instanceof DirLockedError) {
      console.error(err.message);
      process.exit(3);
    }
    throw err;
  }
  const s = t.state();
  process.stdout.write([
    '',
    `agrireturn shop terminal: open ${t.url} in the browser  收银界面: ${t.url}`,
    `  data: ${config.dataDir}   server: ${s?.serverUrl ?? config.serverUrl ?? '(not set)'}   printer: ${config.printer ? `${config.printer.host}:${config.printer.port} (${config.paper} mm)` : 'none (preview only)'}`,
    `  ${s ? `enrolled as terminal ${s.terminalId} of ${s.shopName}` : 'not enrolled yet: enter the enrolment code on the screen'}`,
    '  Stop with Ctrl+C.',
    '',
  ].join('\n') + '\n');
  const shutdown = () => {
    t.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
