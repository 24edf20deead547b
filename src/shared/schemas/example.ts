// One example value for a JSON Schema, built from the schema itself: a schema's own `examples` (or
// `default`, `const`, first `enum` value) wins; objects are assembled field by field from their
// properties' examples. docs/api.md and the OpenAPI document show these, and
// test/http/schema-examples.test.ts checks every one validates against its schema (and that the
// server takes every request example), so the documented examples cannot drift from what is accepted.
import type { JsonSchema } from './builders.js';
import { DEMO_EXAMPLE_COUNTY, DEMO_FACTS, DEMO_IDS, exampleIdFor } from './demo-examples.js';

/**
 * Readable values for common field names that carry no `examples` of their own: candidates in order,
 * the first that fits the field's schema (length, pattern, format) wins. Names, places and numbers are
 * the demo county's (seeds/demo-county.ts).
 */
const HASH = '9f2c4e7a1b3d5f60e8a7c9b1d3f5e7092a4c6e8b0d2f4a6c8e0b2d4f6a8c0e2d';
const SALE_ID = exampleIdFor('sales');
const BY_NAME: Record<string, unknown[]> = {
  // people and places
  name: ['徐兵'], village: ['复兴村'], nameZh: ['青城镇'], nameEn: ['Qingcheng'], address: ['四川省眉山市青神县青城镇青竹街86号'],
  displayName: ['青神县农业农村局官员'], clerkName: ['李芳'], username: ['qingshen.official'], password: ['correct horse battery staple'],
  actor: ['qingshen.official'], closedBy: ['qingshen.official'], decidedBy: ['qingshen.official'], signer: ['hauler.demo'],
  signerRole: ['hauler'], role: ['county_official'], countyId: [DEMO_EXAMPLE_COUNTY], provinceCode: ['510000'],
  countyName: ['青神县'], townshipName: ['青城镇'], township: ['青城镇'], label: ['青城镇'], prefecture: ['眉山市'], prefectureZh: ['眉山市'],
  prefectureNameZh: ['眉山市'], provinceNameZh: ['四川省'], facilityName: ['青神县农药包装废弃物集中收集中心'],
  haulerName: ['眉山市安顺危险货物运输有限公司'], farmerName: ['徐兵'], nameMasked: ['徐*'],
  phone: [DEMO_FACTS.farmerPhone], phoneE164: [DEMO_FACTS.farmerPhone], phoneMasked: ['+86 174****7741'],
  returner: ['+86 174****7741'], contactPhone: ['+8617460000101'], timezone: ['Asia/Shanghai'],
  // products and shops
  manufacturer: [DEMO_FACTS.manufacturer], productName: [DEMO_FACTS.productName], shopName: [DEMO_FACTS.shopName],
  returnedAtShopName: [DEMO_FACTS.shopName], packSizeLabel: ['1 L'], licenceNo: [DEMO_FACTS.shopLicence],
  registrationNo: [DEMO_FACTS.productRegistrationNo], gtin: [DEMO_FACTS.productGtin], containerType: ['1升高密度聚乙烯瓶'],
  containerTypeCode: ['HDPE-1L'], material: ['HDPE'], packSizeCode: ['210'], q: ['XS511425-00000001', '草甘膦'],
  unitCode: [DEMO_FACTS.unitCode], unitCodes: [DEMO_FACTS.unitCode], goods: ['洗衣粉 1袋'],
  // records and their numbers
  saleNo: ['XS511425-00000001'], receiptNo: ['XS511425-00000001'], returnNo: ['HS511425-00000001'],
  trackingNo: ['5114250000001290'], sealNo: ['QS2026-000123'], sealNoRead: ['QS2026-000123'],
  certificateNo: ['LZHB-2026-0315-001'], facilityLicenceNo: ['川环危第511402063号'], reference: ['WX20260315-000123'],
  qrPayload: [`agrireturn:sale:${DEMO_EXAMPLE_COUNTY}:${SALE_ID}`], publicUrl: ['https://qingshen.example.cn'],
  subject: [`sales/${SALE_ID}`], source: ['/api/v1/counties/511425'], handover: [`pickup:${DEMO_IDS.shop}`],
  completedHandover: [`pickup:${DEMO_IDS.shop}`], device: ['HUAWEI MatePad SE 10.4'], side: ['giver'], state: ['open'],
  hash: [HASH], headHash: [HASH], prevHash: [HASH], fingerprint: [HASH],
  kind: ['sale'], type: ['sale'], targetType: ['sale'], refType: ['return'], outcome: ['accepted'], decision: ['approve'],
  direction: ['from_shop'], method: ['incineration'], periodKind: ['month'], bound: ['debit'], flag: ['deposit_mismatch'],
  untrackedRefundPolicy: ['schedule_up_to_limit'], lateReturnPolicy: ['refund_from_unredeemed'], format: ['csv'],
  key: [DEMO_EXAMPLE_COUNTY], value: ['12'], at: ['2026-03-15T02:30:00.000Z'],
  // dates and periods as plain strings
  period: ['2026-03'], bookedPeriod: ['2026-03'], firstOpenPeriod: ['2026-03'], businessDay: ['2026-03-15'], bookedDay: ['2026-03-15'],
  disposedOn: ['2026-03-20'],
  // credentials
  accessToken: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwZGVjNjZjMS1mOGI2LTVhZjItYjA0OS0yZTVmMjJmOGM0MjUiLCJyb2xlIjoiY291bnR5X29mZmljaWFsIiwiY291bnR5SWQiOiI1MTE0MjUifQ.u7Qm2sX9kP4vLr1TnW8yZa3cEf6HjK0dGb5Vq2wXiYo'],
  refreshToken: ['rt.Qm7vX2kP9sLr4TnW8yZa1cEf6HjK3dGb5uVq0wXiYoM'], enrolmentCode: ['K7QM-4TXP-9WHR'],
  credential: [`agt_${DEMO_EXAMPLE_COUNTY}_${exampleIdFor('terminals')}.b3JZcW5yVHh2ZUt3bXpQcQ`],
  // texts
  reason: ['收银员录错数量'], note: ['包装已清洗'], comment: ['封签完好，袋数与清单相符'], why: ['核查农户徐兵的退瓶记录'],
  label_zh: ['回收率'], label_en: ['Recovery rate'], definition_zh: ['本期售出的包装中已交回的比例'],
  definition_en: ['Share of the containers sold in the period that have come back'],
  messageZh: ['售出数与退回数对不上'], messageEn: ['Units sold and units returned do not tie'],
  reasonZh: ['售出数与退回数对不上'], reasonEn: ['Units sold and units returned do not tie'], reasonCode: ['refund_mismatch'],
  message: ['is required'], code: ['VALIDATION_FAILED'],
  // SMS gateway (Kannel)
  secret: ['kannel-qingshen-2026'], from: [DEMO_FACTS.farmerPhone], to: ['10690000'], text: ['余额'], coding: ['2'],
  charset: ['UTF-8'], answer: ['ACK/'],
  // numbers a query takes as text
  limit: ['50', '100'], offset: ['0'],
};

/** Arrays whose natural example is empty. */
const EMPTY_KEYS = new Set(['flags', 'unitCodes', 'warnings']);

/** Nullable fields whose natural example is null (a terminal just issued is not revoked). */
const NULL_KEYS = new Set(['revokedReason', 'revokedAt', 'revokedBy', 'enrolledAt', 'lastSeenAt', 'closedAt', 'deactivatedAt', 'supersededBy', 'reasonCode']);

/** Booleans whose natural example is true (a list shows active records; a shop takes returns back). */
const TRUE_KEYS = new Set(['active', 'isCollectionPoint', 'ok', 'available', 'verified', 'sealIntact', 'chainLinksOk', 'cohortComplete', 'registeredNow']);

/** The seeded record an id names, by the field it sits under. */
const ID_BY_KEY: Record<string, string> = {
  townshipId: DEMO_IDS.township, shopId: DEMO_IDS.shop, facilityId: DEMO_IDS.facility, haulerId: DEMO_IDS.hauler,
  containerTypeId: DEMO_IDS.containerType, productId: DEMO_IDS.product, farmerId: DEMO_IDS.farmer, userId: DEMO_IDS.user,
  depositScheduleId: DEMO_IDS.depositSchedule, fromFacilityId: DEMO_IDS.facility, toFacilityId: DEMO_IDS.disposalFacility,
  destinationFacilityId: DEMO_IDS.disposalFacility,
  saleId: exampleIdFor('sales'), returnId: exampleIdFor('returns'), bagId: exampleIdFor('bags'), manifestId: exampleIdFor('manifests'),
  heldRefundId: exampleIdFor('held-refunds'), terminalId: exampleIdFor('terminals'), runId: exampleIdFor('reconciliations'),
};

/** The seeded record `id` names in a path's collection (`/townships/:id`). */
const ID_BY_RESOURCE: Record<string, string> = {
  townships: DEMO_IDS.township, shops: DEMO_IDS.shop, facilities: DEMO_IDS.facility, haulers: DEMO_IDS.hauler,
  'container-types': DEMO_IDS.containerType, products: DEMO_IDS.product, farmers: DEMO_IDS.farmer,
  users: DEMO_IDS.user,
};

/** Dates by field name: a month's report runs from its first to its last day. */
const DATE_BY_NAME: Record<string, string> = {
  from: '2026-03-01', to: '2026-03-31', at: '2026-03-31', effectiveFrom: '2026-04-01', effectiveTo: '2027-01-01', day: '2026-03-15',
  businessDay: '2026-03-15', periodStart: '2026-03-01', periodEnd: '2026-03-31',
};

/** Instants by field name: a month in the county time zone (UTC+8) runs from the 28th/29th 16:00 UTC. */
const DATE_TIME_BY_NAME: Record<string, string> = {
  from: '2026-02-28T16:00:00.000Z', to: '2026-03-31T16:00:00.000Z', asOf: '2026-03-31T16:00:00.000Z', until: '2026-03-31T16:00:00.000Z',
  recordedAt: '2026-03-15T02:30:01.000Z', expiresAt: '2026-03-16T02:30:00.000Z', enrolmentExpiresAt: '2026-03-16T02:30:00.000Z', refreshExpiresAt: '2026-04-14T02:30:00.000Z',
};

/** Where an example sits: the collection of the route (`townships` for /counties/:countyId/townships/:id). */
export interface ExampleContext {
  resource?: string;
  /** The route's cursor parameter (`cursor` or `after`): a page's nextCursor example is one it takes. */
  cursor?: JsonSchema;
  /** The record the value is a field of, by the key it sits under (`shop` for shop.name, `product` for products[].name). */
  parent?: string;
}

/** The demo records a field names by the object it is a field of (RECORDS[parent][key]). */
const RECORDS: Record<string, Record<string, string>> = {
  county: { id: DEMO_EXAMPLE_COUNTY, countyId: DEMO_EXAMPLE_COUNTY, name: '青神县', nameZh: '青神县', nameEn: 'Qingshen County' },
  township: { id: DEMO_IDS.township, name: '青城镇', nameZh: '青城镇', nameEn: 'Qingcheng' },
  shop: { id: DEMO_IDS.shop, name: DEMO_FACTS.shopName, licenceNo: DEMO_FACTS.shopLicence, address: '四川省眉山市青神县青城镇青竹街86号' },
  facility: { id: DEMO_IDS.facility, name: '青神县农药包装废弃物集中收集中心', licenceNo: '川危废收集（青神）第2023001号' },
  disposalFacility: { id: DEMO_IDS.disposalFacility, facilityId: DEMO_IDS.disposalFacility, name: '眉山市绿洲环保科技有限公司（危险废物焚烧处置）', licenceNo: '川环危第511402063号' },
  hauler: { id: DEMO_IDS.hauler, name: '眉山市安顺危险货物运输有限公司', licenceNo: '川交运管许可眉字511402000123号' },
  product: { id: DEMO_IDS.product, name: DEMO_FACTS.productName, registrationNo: DEMO_FACTS.productRegistrationNo, gtin: DEMO_FACTS.productGtin },
  containerType: { id: DEMO_IDS.containerType, code: 'HDPE-1L', name: '1升高密度聚乙烯瓶', nameZh: '1升高密度聚乙烯瓶', nameEn: '1 L HDPE bottle' },
  farmer: { id: DEMO_IDS.farmer, name: '徐兵' },
  terminal: { id: exampleIdFor('terminals'), name: '丰收农资店收银台1' },
  user: { id: DEMO_IDS.user, name: '青神县农业农村局官员' },
  manufacturer: { name: DEMO_FACTS.manufacturer },
};
/** Other names of the same records. */
const RECORD_ALIASES: Record<string, string> = {
  counties: 'county', purchaser: 'farmer', returner: 'farmer', transporter: 'hauler', carrier: 'hauler', destination: 'disposalFacility',
  // A county's recovery rates and incentive figures are rows of the county; its map's features its townships.
  'recovery-rates': 'county', incentives: 'county', properties: 'township',
  fromShop: 'shop', returnedAtShop: 'shop', soldAtShop: 'shop', receivingFacility: 'facility', centre: 'facility',
};

function recordOf(parent: string | undefined): Record<string, string> | undefined {
  if (!parent) return undefined;
  const camelParent = parent.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const one = singular(camelParent) ?? camelParent;
  return RECORDS[RECORD_ALIASES[parent] ?? RECORD_ALIASES[camelParent] ?? RECORD_ALIASES[one] ?? one];
}

/** The parent a field's value sits in: its own key when it is an object or an array of objects, else the parent it is in. */
function childParent(schema: JsonSchema, key: string, ctx: ExampleContext): string | undefined {
  const t = JSON.stringify(schema.type ?? '');
  const items = schema.items as JsonSchema | undefined;
  const isRecord = t.includes('object') || schema.properties !== undefined || (t.includes('array') && items !== undefined && (JSON.stringify(items.type ?? '').includes('object') || items.properties !== undefined))
    || (Array.isArray(schema.anyOf) && (schema.anyOf as JsonSchema[]).some((a) => a.type === 'object' || a.properties !== undefined));
  // A page's items, a report's rows are records of the route's collection.
  if (['items', 'rows', 'data', 'results'].includes(key)) return ctx.parent;
  return isRecord ? key : ctx.parent;
}

/** The collection a route's path names: the segment before `:id`, else its last plain segment. */
export function resourceOfPath(path: string): string | undefined {
  const segs = path.split('/').filter(Boolean);
  const at = segs.indexOf(':id');
  if (at > 0) return segs[at - 1];
  return [...segs].reverse().find((s) => !s.startsWith(':'));
}

/** The example id of a record named by `key` (a field or parameter) in `ctx`. */
export function exampleId(key: string | undefined, ctx: ExampleContext = {}): string {
  if (key && ID_BY_KEY[key]) return ID_BY_KEY[key]!;
  if ((key === 'id' || key === undefined) && ctx.resource) return ID_BY_RESOURCE[ctx.resource] ?? exampleIdFor(ctx.resource);
  return exampleIdFor(key ?? 'record');
}

function allowsNull(schema: JsonSchema): boolean {
  return (Array.isArray(schema.type) && (schema.type as string[]).includes('null'))
    || (Array.isArray(schema.anyOf) && (schema.anyOf as JsonSchema[]).some((a) => a.type === 'null'));
}

function firstNonNull(alts: JsonSchema[]): JsonSchema | undefined {
  return alts.find((a) => a.type !== 'null') ?? alts[0];
}

function fitsString(schema: JsonSchema, v: string): boolean {
  return (schema.maxLength === undefined || v.length <= (schema.maxLength as number))
    && (schema.minLength === undefined || v.length >= (schema.minLength as number))
    && (typeof schema.pattern !== 'string' || new RegExp(schema.pattern, 'u').test(v));
}

function stringExample(schema: JsonSchema, key: string | undefined, ctx: ExampleContext): string {
  const record = recordOf(ctx.parent ?? ctx.resource);
  const known = key !== undefined ? record?.[key] : undefined;
  if (known !== undefined && (schema.format === 'uuid' ? /^[0-9a-f]{8}-/.test(known) : schema.format === undefined) && fitsString(schema, known)) return known;
  switch (schema.format) {
    case 'uuid': return exampleId(key, ctx);
    case 'date-time': return (key && DATE_TIME_BY_NAME[key]) ?? '2026-03-15T02:30:00.000Z';
    case 'date': return (key && DATE_BY_NAME[key]) ?? '2026-03-15';
    case 'email': return 'qingshen.official@example.cn';
    case 'uri': return 'https://qingshen.example.cn/';
  }
  const fits = (v: string) => fitsString(schema, v);
  // A cursor of a county's collection: the last id of the previous page.
  if (key === 'cursor' || key === 'nextCursor' || key === 'after') {
    const feed = `${DEMO_EXAMPLE_COUNTY}.42`;
    if (key === 'nextCursor' && ctx.cursor) {
      const v = exampleFor(ctx.cursor, 'cursor', 1, { resource: ctx.resource });
      if (typeof v === 'string' && fits(v)) return v;
    }
    const page = ctx.resource === 'counties' ? DEMO_EXAMPLE_COUNTY : exampleId('id', ctx);
    for (const v of ctx.resource === 'events' || key === 'after' ? [feed, page] : [page, feed, '2026-02']) if (fits(v)) return v;
  }
  // A plain string id: the record of the route's collection (an event's id is `<kind>:<id>`).
  if (key === 'id' && ctx.resource === 'events' && fits(`sale:${SALE_ID}`)) return `sale:${SALE_ID}`;
  for (const v of (key !== undefined ? BY_NAME[key] ?? [] : [])) if (typeof v === 'string' && fits(v)) return v;
  if (key && /Id$|^id$/.test(key) && fits(exampleId(key, ctx))) return exampleId(key, ctx);
  if (typeof schema.pattern === 'string') {
    // Open-ended repetitions (* + {n,}) grow until the string is long enough.
    for (let extra = 0; extra <= 64; extra++) {
      const v = stringMatching(schema.pattern, extra);
      if (v === null) break;
      if (fits(v)) return v;
    }
  }
  const min = typeof schema.minLength === 'number' ? schema.minLength : 1;
  return 'x'.repeat(Math.max(1, min));
}

function numberExample(schema: JsonSchema, key: string | undefined): number {
  const lo = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : Number.NEGATIVE_INFINITY;
  const hi = typeof schema.maximum === 'number' ? schema.maximum : Number.POSITIVE_INFINITY;
  // Two containers at the demo county's deposit of 1 yuan (100 fen) each: a per-container amount is
  // 100 fen, a line's or a total 200 fen.
  let v = key && /PerContainerFen$|^schedule[A-Z]\w*Fen$|^unit[A-Z]\w*Fen$|RateFen$|^depositChargedFen$/.test(key) ? 100 : key && /Fen$/.test(key) ? 200
    : key && /(quantity|containers|count|Count|Quantity)$/i.test(key) ? 2 : 1;
  if (key && /[gG]rams$/.test(key)) v = 850;
  if (key && /Kg$/.test(key)) v = 12.5;
  if (key === 'limit') v = 50;
  if (key === 'wait') v = 25;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return schema.type === 'integer' ? Math.round(v) : v;
}

/**
 * An example for `schema`; `key` is the property name it sits under (for readable values), `ctx`
 * where it sits (the route's collection, for ids and cursors).
 */
export function exampleFor(schema: JsonSchema | undefined, key?: string, depth = 0, ctx: ExampleContext = {}): unknown {
  if (!schema || depth > 12) return null;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return structuredClone(schema.examples[0]);
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).find((v) => v !== null) ?? schema.enum[0];
  if (key !== undefined && NULL_KEYS.has(key) && allowsNull(schema)) return null;
  if (Array.isArray(schema.anyOf) && schema.type === undefined) return exampleFor(firstNonNull(schema.anyOf as JsonSchema[]), key, depth + 1, ctx);
  if (Array.isArray(schema.oneOf) && schema.type === undefined) return exampleFor(firstNonNull(schema.oneOf as JsonSchema[]), key, depth + 1, ctx);
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      // Required fields, the fields the first alternative of a oneOf/anyOf requires, and optional
      // fields that carry their own examples; the other optional fields are left out, so that an
      // example never names two of "exactly one of".
      const want = new Set<string>((schema.required as string[] | undefined) ?? []);
      const alt = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
      for (const k of ((alt?.[0]?.required as string[] | undefined) ?? [])) want.add(k);
      for (const [k, s] of Object.entries(props)) if (Array.isArray(s.examples) && !excludedByAlternatives(schema, k)) want.add(k);
      // A PATCH body (minProperties) names as many fields as it must, in order.
      const atLeast = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      for (const k of Object.keys(props)) if (want.size < atLeast && !excludedByAlternatives(schema, k)) want.add(k);
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(props)) if (want.has(k)) out[k] = exampleFor(s, k, depth + 1, { ...ctx, parent: childParent(s, k, ctx) });
      // if/then/else rules (allOf): the fields the branch that applies to the example requires.
      for (const rule of (schema.allOf ?? []) as JsonSchema[]) {
        const branch = rule.if ? (matchesConsts(rule.if as JsonSchema, out) ? rule.then : rule.else) as JsonSchema | undefined : undefined;
        for (const k of ((branch?.required as string[] | undefined) ?? [])) if (!(k in out) && props[k]) out[k] = exampleFor(props[k], k, depth + 1, { ...ctx, parent: childParent(props[k], k, ctx) });
      }
      return out;
    }
    case 'array': {
      const n = Math.max(1, typeof schema.minItems === 'number' ? schema.minItems : 1);
      if (schema.maxItems === 0) return [];
      // A record without flags is the usual one; a sale by product id carries no unit codes.
      if (key !== undefined && EMPTY_KEYS.has(key) && !((schema.minItems as number) > 0)) return [];
      return Array.from({ length: n }, () => exampleFor((schema.items ?? {}) as JsonSchema, singular(key), depth + 1, ctx));
    }
    case 'integer':
    case 'number':
      return numberExample(schema, key);
    case 'boolean':
      return key !== undefined && TRUE_KEYS.has(key);
    case 'string':
      return stringExample(schema, key, ctx);
    case 'null':
      return null;
    default:
      return null;
  }
}

/** A field named by a later alternative of the object's oneOf/anyOf than the first (so not both). */
function excludedByAlternatives(schema: JsonSchema, k: string): boolean {
  const alt = (schema.oneOf ?? schema.anyOf) as JsonSchema[] | undefined;
  if (!alt?.length) return false;
  const first = new Set((alt[0]?.required as string[] | undefined) ?? []);
  return !first.has(k) && alt.some((a) => ((a.required as string[] | undefined) ?? []).includes(k));
}

function singular(key: string | undefined): string | undefined {
  if (!key) return key;
  return key.endsWith('ies') ? `${key.slice(0, -3)}y` : key.endsWith('s') ? key.slice(0, -1) : key;
}

/**
 * A string the (simple) regular expression matches: the first alternative, the least repetitions,
 * class members taken in turn so digits vary. Handles what the schemas use (classes, ranges, groups,
 * alternation, {n,m} + * ?, \\d \\S \\w); null when the result does not match after all.
 */
export function stringMatching(pattern: string, extra = 0): string | null {
  let i = 0;
  let turn = 0;
  const pickFrom = (chars: string): string => chars.charAt(turn++ % chars.length);
  const classChars = (): string => {
    // at '[' ; returns the members of the class in order
    i++;
    let negate = false;
    if (pattern[i] === '^') { negate = true; i++; }
    let members = '';
    while (i < pattern.length && pattern[i] !== ']') {
      let c = pattern[i]!;
      if (c === '\\') { c = escapeChars(pattern[i + 1]!); i += 2; members += c; continue; }
      if (pattern[i + 1] === '-' && pattern[i + 2] !== undefined && pattern[i + 2] !== ']') {
        const a = c.charCodeAt(0);
        const b = pattern[i + 2]!.charCodeAt(0);
        for (let k = a; k <= b; k++) members += String.fromCharCode(k);
        i += 3;
        continue;
      }
      members += c;
      i++;
    }
    i++;
    if (negate) return 'xyz7'.split('').filter((ch) => !members.includes(ch)).join('') || 'x';
    return members;
  };
  const escapeChars = (c: string): string => (c === 'd' ? '0123456789' : c === 'S' || c === 'w' ? 'x' : c === 's' ? ' ' : c);
  // Parses an alternation up to ')' or the end; returns the first alternative's text.
  const alternation = (): string => {
    const alts: string[] = [];
    let cur = '';
    while (i < pattern.length && pattern[i] !== ')') {
      if (pattern[i] === '|') { alts.push(cur); cur = ''; i++; continue; }
      let atom: () => string;
      const c = pattern[i]!;
      if (c === '^' || c === '$') { i++; continue; }
      if (c === '(') {
        i++;
        if (pattern[i] === '?' && pattern[i + 1] === ':') i += 2;
        const once = alternation();
        i++; // ')'
        atom = () => once;
      } else if (c === '[') {
        const members = classChars();
        atom = () => pickFrom(members);
      } else if (c === '\\') {
        const members = escapeChars(pattern[i + 1]!);
        i += 2;
        atom = () => pickFrom(members);
      } else if (c === '.') {
        i++;
        atom = () => 'x';
      } else {
        i++;
        atom = () => c;
      }
      let min = 1;
      const q = pattern[i];
      if (q === '{') {
        const close = pattern.indexOf('}', i);
        const [lo, hi] = pattern.slice(i + 1, close).split(',');
        min = Number(lo);
        if (hi === '') min += extra;
        i = close + 1;
      } else if (q === '+') { min = 1 + extra; i++; }
      else if (q === '*') { min = extra; i++; }
      else if (q === '?') { min = 0; i++; }
      for (let k = 0; k < min; k++) cur += atom();
    }
    alts.push(cur);
    return alts[0]!;
  };
  try {
    const out = alternation();
    return new RegExp(pattern, 'u').test(out) ? out : null;
  } catch {
    return null;
  }
}

/** Whether a value meets an `if` made of property constants (the only kind the schemas use). */
function matchesConsts(cond: JsonSchema, value: Record<string, unknown>): boolean {
  return Object.entries((cond.properties ?? {}) as Record<string, JsonSchema>).every(([k, p]) => (p.const === undefined ? true : value[k] === p.const));
}
