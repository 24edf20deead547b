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

/** Throws when responses since the last check drifted from the document. */
function failOnDrift(title: string): void {
  const drifts = contract.take();
  if (drifts.length) throw new Error(`Contract drift seen by "${title}" (or the hooks before it):\n${describeDrift(drifts)}`);
}

/** A test that failed anyway: its drift is told in its error, not left for the next test. */
function withDrift(err: unknown): unknown {
  const drifts = contract.take();
  if (drifts.length && err instanceof Error) err.message += `\n\nAnd contract drift:\n${describeDrift(drifts)}`;
  return err;
}

const WRAPPED = Symbol('contract-checked');
type TestFn = ((this: Mocha.Context, done?: Mocha.Done) => unknown) & { [WRAPPED]?: true };

/**
 * The test itself fails on drift, not a hook: a failing root hook would stop the whole run. The
 * test's function is wrapped before it runs, so the check happens after it, inside the test.
 */
function checkAfter(test: Mocha.Test): void {
  const fn = test.fn as TestFn | undefined;
  if (!fn || fn[WRAPPED]) return;
  const title = test.fullTitle();
  let wrapped: TestFn;
  if (fn.length > 0) {
    wrapped = function (this: Mocha.Context, done?: Mocha.Done) {
      return fn.call(this, (err?: unknown) => {
        if (err) return done!(withDrift(err));
        try {
          failOnDrift(title);
          done!();
        } catch (e) {
          done!(e);
        }
      });
    } as TestFn;
  } else {
    wrapped = async function (this: Mocha.Context) {
      let result: unknown;
      try {
        result = await fn.call(this);
      } catch (err) {
        throw withDrift(err);
      }
      failOnDrift(title);
      return result;
    } as TestFn;
  }
  wrapped[WRAPPED] = true;
  wrapped.toString = () => fn.toString();
  test.fn = wrapped as Mocha.Func;
}

export const mochaHooks = {
  beforeAll() {
    console.log(`  [agrireturn] test backend: ${BACKEND === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : 'embedded PostgreSQL 15 (one server for the run)'}`);
  },
  beforeEach(this: Mocha.Context) {
    // A test cannot switch the check off for the tests after it.
    setResponseObserver(observe);
    if (this.currentTest) checkAfter(this.currentTest);
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(120_000);
    const drifts = contract.take();
    await endOfRun();
    if (drifts.length) throw new Error(`Contract drift seen after the last test:\n${describeDrift(drifts)}`);
  },
};
