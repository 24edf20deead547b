// `npm start`: the county server. Without DATABASE_URL it runs its own PostgreSQL 15 server on the
// data directory (./data), seeded with the demo county, and prints where to log in.
import { loadConfig, ConfigError, type Config } from './config.js';
import { startServer } from './server.js';
import { createLogger } from './logger.js';
import { DirLockedError } from './db/dir-lock.js';
import { EmbeddedServerError } from './db/embedded-server.js';

/** One line on whether farmers' SMS work, and what is missing when they do not (docs/sms.md). */
function smsStatus(config: Config): string {
  const s = config.sms;
  const outbound = s.kannelSendsmsUrl ? `on — notifications and replies go through Kannel ${s.kannelSendsmsUrl}` : 'outbound off (set KANNEL_SENDSMS_URL and KANNEL_PASSWORD; messages wait in the outbox)';
  const inbound = s.countyId && s.inboundSecret ? `inbound on for county ${s.countyId}, short number ${s.shortNumber}` : 'inbound off (set SMS_COUNTY_ID and SMS_INBOUND_SECRET)';
  return `${outbound}; ${inbound}`;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Listen for the stop signals from the first moment: a signal during start-up (initialising the
  // embedded server, migrating) still stops the embedded PostgreSQL server cleanly once it is up.
  let running: Awaited<ReturnType<typeof startServer>> | null = null;
  let stopSignal: string | null = null;
  const shutdown = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (!running) return; // start-up finishes first, then stops
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  let demoUsers: Array<{ username: string; password: string; role: string; description_zh: string; description_en: string }> = [];
  running = await startServer(config, { logger, onSeeded: (u) => (demoUsers = u) });
  if (stopSignal) {
    const signal = stopSignal;
    stopSignal = null;
    return shutdown(signal);
  }
  const where = running.deps.db.description;
  const lines = [
    '',
    `agrireturn county server is running at ${running.url}  (database: ${where})`,
    `  API:      ${running.url}/api/v1      OpenAPI: ${running.url}/api/v1/openapi.json`,
    `  Dashboard (officials 县/省官员): ${running.url}/dashboard`,
    `  Log in:   POST ${running.url}/api/v1/auth/login  {"username": "...", "password": "..."}`,
  ];
  if (demoUsers.length) {
    lines.push('  Demo county 青神县 Qingshen (511425). Demo logins 演示账号:');
    for (const u of demoUsers) lines.push(`    ${u.username.padEnd(20)} ${u.password.padEnd(18)} ${u.role.padEnd(18)} ${u.description_zh} / ${u.description_en}`);
  }
  lines.push(`  SMS 短信: ${smsStatus(config)}`);
  lines.push('  Stop with Ctrl+C.', '');
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  if (err instanceof DirLockedError) {
    console.error(err.message);
    process.exit(3);
  }
  if (err instanceof EmbeddedServerError) {
    console.error(`agrireturn failed to start its embedded PostgreSQL server: ${err.message}`);
    process.exit(1);
  }
  console.error('agrireturn failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
