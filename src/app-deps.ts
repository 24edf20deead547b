// What every part of the server is built from: the database, configuration, logger and clock.
import type { Config } from './config.js';
import type { Database } from './db/connection.js';
import type { Logger } from './logger.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface AppDeps {
  db: Database;
  config: Config;
  logger: Logger;
  clock: Clock;
  jwtSecret: string;
}
