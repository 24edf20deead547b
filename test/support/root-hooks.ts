// Run-wide hooks: say which backend the suite runs on, and drop PostgreSQL databases left behind.
import { BACKEND, dropLeftovers } from './test-db.js';

export const mochaHooks = {
  beforeAll() {
    console.log(`  [agrireturn] test backend: ${BACKEND === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite'}`);
  },
  async afterAll() {
    await dropLeftovers();
  },
};
