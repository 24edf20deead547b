// The periodic jobs of a county server and how often they run (configurable, 0 = off).
import type { Config } from '../config.js';
import type { CountyJob } from './scheduler.js';
import { runExpiry } from '../features/expiry/expiry-service.js';

export function countyJobs(config: Config): CountyJob[] {
  return [
    {
      name: 'deposit-expiry',
      intervalMs: config.expiryJobIntervalMinutes * 60_000,
      run: (knex, countyId, now) => runExpiry(knex, countyId, now, 'system:expiry-job'),
    },
  ];
}
