// Run-wide hooks: say which backend the suite runs on; at the end drop the databases left on the
// external server, or stop the suite's embedded PostgreSQL server and remove its directory.
import { BACKEND, endOfRun } from './test-db.js';

export const mochaHooks = {
  beforeAll() {
    console.log(`  [agrireturn] test backend: ${BACKEND === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded PostgreSQL 15 (one server for the run)'}`);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    await endOfRun();
  },
};
