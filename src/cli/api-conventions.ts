// The hand-written part of docs/api.md: the conventions every route follows, and how to make client
// ids. src/cli/docs.ts puts it after the introduction. The Node snippet below is run by
// test/features/ledger/county-paths.test.ts, which posts a sale with the id it prints.

export const UUIDV7_SNIPPET = [
  "import { randomBytes } from 'node:crypto';",
  '',
  '// RFC 9562 UUIDv7: 48 bits of Unix milliseconds, version 7, the RFC variant, 74 random bits.',
  'function uuidv7(ms = Date.now()) {',
  '  const b = randomBytes(16);',
  '  b.writeUIntBE(ms, 0, 6);',
  '  b[6] = 0x70 | (b[6] & 0x0f);',
  '  b[8] = 0x80 | (b[8] & 0x3f);',
  "  const h = b.toString('hex');",
  '  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;',
  '}',
  '',
  'console.log(uuidv7());',
].join('\n');

export const API_CONVENTIONS: string[] = [
  '## Conventions',
  '',
  'One convention for every route; the few older shapes that break it are kept for one release as deprecated aliases.',
  '',
  '- **Paths.** What a county owns lives under `/api/v1/counties/{countyId}/…`, and the county is the one in the path, never one in the body: a county-scoped body has no `countyId` field. Sales, returns and reversals are `POST /api/v1/counties/{countyId}/sales`, `…/returns` and `…/reversals`; settlement payments `POST /api/v1/counties/{countyId}/settlements`; at the counter, what a phone may collect and the cash payout of a held refund `POST /api/v1/counties/{countyId}/held-refunds/payable` and `…/held-refund-payouts`. The county dashboard reads `GET /api/v1/counties/{countyId}/dashboard`, `…/dashboard/shops`, `…/dashboard/shops/{shopId}`, `…/dashboard/reconciliations/{runId}/exceptions`, `…/dashboard/incentives` and `…/dashboard/map`, beside `…/recovery-rates` and `…/reports/monthly`. The register of counties itself is `GET` and `POST /api/v1/counties`.',
  '- **Province paths.** What a province owns lives under `/api/v1/provinces/{provinceCode}/…` (the six-digit GB/T 2260 code): the counties compared, `GET /api/v1/provinces/{provinceCode}/dashboard` and `…/dashboard/map`, and the monthly report, `…/reports/monthly`.',
  '- **Outside counties and provinces.** Authentication (`/api/v1/auth/…`); terminal enrolment and sync (`POST /api/v1/terminals/enrol`, `/api/v1/sync/…`: the terminal credential names its county); the SMS gateway callbacks (`/api/v1/sms/kannel/…`); `POST /api/v1/manufacturer-accounts`, top-level because a manufacturer\'s integration account is province-wide: it belongs to no county (it reads the event feed of its products in every county of its province), the administrator alone creates it, and its province and manufacturer are what the account is, given in the body, not a scope the request is checked against; the OpenAPI document (`GET /api/v1/openapi.json`) and the probes `GET /healthz` and `GET /readyz`.',
  '- **Pages outside `/api`.** The public check a QR scan opens, `GET /check/{countyId}?q=…` (HTML, no login: the county in the path like everything a county owns); the dashboard page `GET /dashboard` and its assets `GET /dashboard/app.js`, `/dashboard/app.css`, `/dashboard/plain-words.js` and `/dashboard/echarts.min.js` (public, they hold no data: the page reads the county and province paths above with the signed-in official\'s token).',
  '- **Deprecated aliases.** `POST /api/v1/sales`, `/api/v1/returns`, `/api/v1/reversals`, `/api/v1/settlements`, `/api/v1/held-refunds/payable` and `/api/v1/held-refund-payouts` (county in the body, or the caller\'s own) behave exactly as before and share the idempotency keys of the new paths: a retry may move to the new path with the same `id` and the same content less `countyId` (a `countyId` naming the caller\'s own county is the same request with or without it), and back. The dashboard\'s older paths, `GET /api/v1/dashboard/counties/{countyId}…` (`/shops`, `/shops/{shopId}`, `/reconciliations/{runId}/exceptions`, `/incentives`, `/map`) and `GET /api/v1/dashboard/provinces/{provinceCode}…` (`/map`), answer as their successors `…/counties/{countyId}/dashboard…` and `…/provinces/{provinceCode}/dashboard…` do. They are marked `deprecated: true` in openapi.json, and every answer from them carries `Deprecation` (RFC 9745), `Sunset` (RFC 8594, the day they go) and `Link: <new path>; rel="successor-version"` (the county or province of the old path filled in; for a write alias, the caller\'s own county, and `{countyId}` left as a template for a caller without one).',
  '- **Lists.** A list that grows with use answers `{ "items": [...], "nextCursor": "…" | null }`; pass `nextCursor` back as `cursor` (with the same filters) for the next page, and `limit` (1–500, default 50) to size it. A cursor is the server\'s own string: do not build or edit one. A bounded list (a record\'s history, the schedules in force, the ledger accounts, the sales with one receipt number) answers `{ "items": [...] }` whole. The reconciliation run list, a county\'s months (`GET …/periods`, newest first), the held-refund queue (`GET …/held-refunds`, oldest first) and a product\'s code-registry imports (`GET …/products/{productId}/code-registry`, oldest first) page like every list; their old fields, `runs`, `periods` and `imports`, are deprecated duplicates of the page for one release. Two keep their old default size for that release, so a client that reads them whole still does: the months (default 240, every month the list holds) and the held-refund queue (default 200, `limit` up to 1000).',
  '- **Names.** camelCase field names; ids are `id` or `<thing>Id`. One name per count of containers: sold with deposit `soldUnits`, returned `returnedUnits`, deposit still out `outstandingContainers` (farmer balances, sale-receipt lines, the reconciliation units book). The old names stay one release beside the new ones, as deprecated fields with the same value, and go with the aliases: `outstandingCounted` (sale-receipt lines), `soldWithDeposit` and `outstandingClosing` (reconciliation `figures.units`), `runs`, `periods` and `imports` (the reconciliation run list, a county\'s months, a product\'s code-registry imports; now `items`).',
  '- **Units.** Money is an integer number of fen (1 yuan = 100 fen) in fields ending `Fen`; CSV and printed forms show yuan. Mass: what is weighed or declared (bags, tare, inspections) is an integer number of grams in fields ending `G` (`shopWeightG`, `tareWeightG`, `measuredWeightG`); statistics and statutory forms (dashboard, monthly report, the custody ledger) give kilograms with up to three decimals in fields ending `Kg` or named `kg`, as their readers expect. A mass field always names its unit. Percentages are numbers on a scale of 100 with one decimal (`62.5`, not `0.625`) in fields ending `Pct`, `null` when the base is zero, and may pass 100 when more came back than was sold. Instants are ISO 8601 in UTC (`…Time`, `…At`); county business days are `YYYY-MM-DD` in the county\'s time zone (`…Day`, `…On`), months `YYYY-MM`.',
  '',
  '### Client ids',
  '',
  'Every write carries an `id` its client makes before sending: the idempotency key. A retry with the same `id` and the same content gets the stored answer (200); the same `id` with other content is refused with `IDEMPOTENCY_CONFLICT`. Any RFC 9562 UUID in lowercase canonical form is accepted: a v4 from `crypto.randomUUID()` works. A malformed id is refused with `VALIDATION_FAILED` and a detail that names the field (`/body/id`, `code: "invalid_client_id"`) and says what is expected, in English (`message`) and Chinese (`message_zh`).',
  '',
  '**Prefer UUIDv7.** A v7 id begins with the time it was made, so ids made one after another sort one after another. The server keeps every record under a B-tree index on its id; random v4 ids land on random index pages (each insert touches a cold page, pages split half-empty, and the index grows larger than its data), while v7 ids append at the right-hand edge, where the pages are hot in memory. The shop terminals and the server make v7 ids. In Node (18 or later), with no package:',
  '',
  '```js',
  UUIDV7_SNIPPET,
  '```',
  '',
];
