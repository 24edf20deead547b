// Run-wide hooks: say which backend the suite runs on; check every response any test receives
// against the OpenAPI document (test/support/contract-check.ts) and fail the test that saw drift; at
// the end drop the databases left on the external server, or stop the suite's embedded PostgreSQL
// server and remove its directory.
import { BACKEND, endOfRun } from './test-db.js';
import { setResponseObserver } from '../../src/http/response-observer.js';
import { ContractChecker, describeDrift } from './contract-check.js';

const contract = new ContractChecker();
const observe = (r: Parameters<ContractChecker['check']>[0]) => {
  contract.check(r);
};
setResponseObserver(observe);

export const mochaHooks = {
  beforeAll() {
    console.log(`  [agrireturn] test backend: ${BACKEND === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded PostgreSQL 15 (one server for the run)'}`);
  },
  beforeEach() {
    // A test cannot switch the check off for the tests after it.
    setResponseObserver(observe);
  },
  afterEach(this: Mocha.Context) {
    const drifts = contract.take();
    if (drifts.length) {
      const title = this.currentTest?.fullTitle() ?? '(a hook)';
      throw new Error(`Contract drift seen by "${title}":\n${describeDrift(drifts)}`);
    }
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    const drifts = contract.take();
    await endOfRun();
    if (drifts.length) throw new Error(`Contract drift seen after the last test:\n${describeDrift(drifts)}`);
  },
};
