// `npm start`: the county server. Without DATABASE_URL it runs on the embedded database in ./data,
// seeded with the demo county, and prints where to log in.
import { loadConfig, ConfigError, redactUrl } from './config.js';
import { startServer } from './server.js';
import { createLogger } from './logger.js';
import { DirLockedError } from './db/dir-lock.js';

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
  let demoUsers: Array<{ username: string; password: string; role: string; description_zh: string; description_en: string }> = [];
  const running = await startServer(config, { logger, onSeeded: (u) => (demoUsers = u) });
  const where = config.databaseUrl ? `PostgreSQL ${redactUrl(config.databaseUrl)}` : `embedded PGlite in ${config.dataDir}`;
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
  lines.push('  Stop with Ctrl+C.', '');
  process.stdout.write(lines.join('\n') + '\n');

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  if (err instanceof DirLockedError) {
    console.error(err.message);
    process.exit(3);
  }
  console.error('agrireturn failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
