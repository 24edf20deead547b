// Lot trace (issue 16): containers sold without a unit code are followed by lot. A sale line — or a
// GTIN and a range of the county's days — names the lots (deposit_lots); the returns matched to them
// are the FIFO allocations the returns service wrote (return_allocations, source lot / lot_expired);
// the bags that hold them are inferred first-in-first-out as well: at the returning shop, the
// containers of a type without a unit code go into that shop's bags in the order they were returned.
import type { Knex } from 'knex';
import { addDays, dayStart, DEFAULT_TIME_ZONE } from '../../shared/business-day.js';
import { AppError } from '../../http/errors.js';
import { withClient } from '../../backup/table-copy.js';

export interface LotQuery { saleId?: string; lineNo?: number; gtin?: string; from?: string; to?: string }

const LOT_SQL = (where: string) => `
WITH lots AS (
  SELECT dl.county_id, dl.sale_id, dl.line_no, dl.product_id, dl.quantity, dl.outstanding, dl.expired, dl.voided, dl.deposit_fen, dl.event_time,
         s.shop_id, s.business_day, s.sale_no, s.receipt_no
    FROM deposit_lots dl JOIN sales s ON s.county_id = dl.county_id AND s.id = dl.sale_id
   WHERE dl.county_id = :county AND ${where}
), al AS (
  SELECT a.return_id, a.item_no, a.alloc_no, a.source, a.sale_id, a.line_no, a.quantity, a.amount_fen,
         r.shop_id, r.event_time, r.return_no, r.business_day, p.container_type_id, i.outcome,
         (SELECT COALESCE(sum(a2.quantity), 0) FROM return_allocations a2
           WHERE a2.county_id = a.county_id AND a2.return_id = a.return_id AND a2.item_no = a.item_no AND a2.alloc_no < a.alloc_no)::int AS offset_in_item
    FROM lots l
    JOIN return_allocations a ON a.county_id = l.county_id AND a.sale_id = l.sale_id AND a.line_no = l.line_no AND a.source IN ('lot', 'lot_expired')
    JOIN return_items i ON i.county_id = a.county_id AND i.return_id = a.return_id AND i.item_no = a.item_no
    JOIN returns r ON r.county_id = a.county_id AND r.id = a.return_id
    JOIN products p ON p.county_id = i.county_id AND p.id = i.product_id
   WHERE NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
), keys AS (
  SELECT DISTINCT shop_id, container_type_id FROM al
), rs AS (
  SELECT i.return_id, i.item_no,
         (sum(i.quantity) OVER (PARTITION BY r.shop_id, p.container_type_id ORDER BY r.event_time, r.return_no, i.item_no) - i.quantity)::int AS start
    FROM keys k
    JOIN returns r ON r.county_id = :county AND r.shop_id = k.shop_id
    JOIN return_items i ON i.county_id = r.county_id AND i.return_id = r.id AND i.unit_code IS NULL AND i.outcome <> 'rejected'
    JOIN products p ON p.county_id = i.county_id AND p.id = i.product_id AND p.container_type_id = k.container_type_id
   WHERE NOT EXISTS (SELECT 1 FROM reversals v WHERE v.county_id = r.county_id AND v.target_type = 'return' AND v.target_id = r.id)
), bs AS (
  SELECT bi.bag_id, b.shop_id, bi.container_type_id, bi.quantity,
         (sum(bi.quantity) OVER (PARTITION BY b.shop_id, bi.container_type_id ORDER BY bi.recorded_at, bi.bag_id, bi.item_no) - bi.quantity)::int AS start
    FROM keys k
    JOIN custody_bags b ON b.county_id = :county AND b.shop_id = k.shop_id
    JOIN custody_bag_items bi ON bi.county_id = b.county_id AND bi.bag_id = b.id AND bi.container_type_id = k.container_type_id AND bi.unit_code IS NULL
), placed AS (
  SELECT al.*, rs.start + al.offset_in_item AS lo, rs.start + al.offset_in_item + al.quantity AS hi
    FROM al JOIN rs ON rs.return_id = al.return_id AND rs.item_no = al.item_no
)
SELECT
  (SELECT json_agg(x ORDER BY x.event_time, x.sale_id, x.line_no) FROM (
     SELECT l.*, sh.name AS shop_name, pr.name AS product_name, pr.registration_no, pr.gtin
       FROM lots l JOIN shops sh ON sh.county_id = l.county_id AND sh.id = l.shop_id
       JOIN products pr ON pr.county_id = l.county_id AND pr.id = l.product_id) x) AS lots,
  (SELECT json_agg(x ORDER BY x.event_time, x.return_no, x.item_no, x.alloc_no) FROM (
     SELECT al.*, sh.name AS shop_name FROM al JOIN shops sh ON sh.county_id = :county AND sh.id = al.shop_id) x) AS allocations,
  (SELECT json_agg(x) FROM (
     SELECT p.return_id, p.item_no, p.alloc_no, bs.bag_id,
            (LEAST(p.hi, bs.start + bs.quantity) - GREATEST(p.lo, bs.start))::int AS quantity,
            b.seal_no, b.state, m.tracking_no, d.certificate_no
       FROM placed p
       JOIN bs ON bs.shop_id = p.shop_id AND bs.container_type_id = p.container_type_id AND bs.start < p.hi AND bs.start + bs.quantity > p.lo
       JOIN custody_bags b ON b.county_id = :county AND b.id = bs.bag_id
       LEFT JOIN custody_manifests m ON m.county_id = b.county_id AND m.id = b.manifest_id
       LEFT JOIN custody_disposals d ON d.county_id = b.county_id AND d.id = b.disposal_id) x) AS bags
`;

const iso = (v: unknown): string => new Date(v as string).toISOString();

export async function traceLot(knex: Knex, countyId: string, q: LotQuery) {
  let where: string;
  let name: string;
  const bind: Record<string, unknown> = { county: countyId };
  if (q.saleId !== undefined) {
    if (q.gtin !== undefined || q.from !== undefined || q.to !== undefined) throw lotQueryError('give either saleId (and lineNo) or gtin with from and to');
    where = q.lineNo !== undefined ? 'dl.sale_id = :sale AND dl.line_no = :line' : 'dl.sale_id = :sale';
    name = q.lineNo !== undefined ? 'agrireturn_lot_trace_line_v1' : 'agrireturn_lot_trace_sale_v1';
    Object.assign(bind, { sale: q.saleId, ...(q.lineNo !== undefined ? { line: q.lineNo } : {}) });
  } else if (q.gtin !== undefined && q.from !== undefined && q.to !== undefined) {
    if (q.lineNo !== undefined) throw lotQueryError('lineNo goes with saleId');
    if (q.from > q.to) throw lotQueryError('from is after to');
    const tz = ((await knex('counties').where({ id: countyId }).first('timezone')) as { timezone: string } | undefined)?.timezone ?? DEFAULT_TIME_ZONE;
    where = `dl.product_id IN (SELECT id FROM products WHERE county_id = :county AND gtin = :gtin) AND dl.event_time >= :start AND dl.event_time < :end`;
    name = 'agrireturn_lot_trace_gtin_v1';
    Object.assign(bind, { gtin: q.gtin, start: dayStart(q.from, tz), end: dayStart(addDays(q.to, 1), tz) });
  } else {
    throw lotQueryError('give saleId (and lineNo), or gtin with from and to');
  }
  // A named prepared statement per variant: planning costs more than running (see trace-store.ts).
  const names = Object.keys(bind);
  const text = LOT_SQL(where).replace(/(?<!:):([a-z]+)\b/g, (m, k: string) => (names.includes(k) ? `$${names.indexOf(k) + 1}` : m));
  const res = await withClient(knex, (client) => client.query({ name, text, values: names.map((k) => bind[k]) }));
  const row = res.rows[0] as { lots: Array<Record<string, any>> | null; allocations: Array<Record<string, any>> | null; bags: Array<Record<string, any>> | null };
  const bagsOf = new Map<string, Array<Record<string, unknown>>>();
  for (const b of row.bags ?? []) {
    const k = `${b.return_id}/${b.item_no}/${b.alloc_no}`;
    const list = bagsOf.get(k) ?? [];
    list.push({ bagId: b.bag_id, quantity: Number(b.quantity), sealNo: b.seal_no ?? null, state: b.state, trackingNo: b.tracking_no ?? null, certificateNo: b.certificate_no ?? null });
    bagsOf.set(k, list);
  }
  const allocs = row.allocations ?? [];
  const lots = (row.lots ?? []).map((l) => {
    const mine = allocs.filter((a) => a.sale_id === l.sale_id && a.line_no === l.line_no);
    const returns = mine.map((a) => {
      const bags = bagsOf.get(`${a.return_id}/${a.item_no}/${a.alloc_no}`) ?? [];
      return {
        returnId: a.return_id, itemNo: a.item_no, returnNo: `HS${countyId}-${String(a.return_no).padStart(8, '0')}`,
        shop: { shopId: a.shop_id, name: a.shop_name }, eventTime: iso(a.event_time), businessDay: a.business_day,
        source: a.source, quantity: Number(a.quantity), refundFen: Number(a.amount_fen),
        bags, notYetBagged: Number(a.quantity) - bags.reduce((n, b) => n + Number(b.quantity), 0),
      };
    });
    return {
      saleId: l.sale_id, lineNo: l.line_no, saleNo: `XS${countyId}-${String(l.sale_no).padStart(8, '0')}`, receiptNo: l.receipt_no ?? null,
      shop: { shopId: l.shop_id, name: l.shop_name }, eventTime: iso(l.event_time), businessDay: l.business_day,
      product: { productId: l.product_id, name: l.product_name, registrationNo: l.registration_no, gtin: l.gtin ?? null },
      quantity: Number(l.quantity), depositPerContainerFen: Number(l.deposit_fen), outstanding: Number(l.outstanding), expired: Number(l.expired), voided: l.voided,
      returned: returns.reduce((n, r) => n + r.quantity, 0),
      returns,
    };
  });
  return {
    countyId, matchedBy: 'fifo' as const,
    query: { saleId: q.saleId ?? null, lineNo: q.lineNo ?? null, gtin: q.gtin ?? null, from: q.from ?? null, to: q.to ?? null },
    totals: {
      sold: lots.reduce((n, l) => n + l.quantity, 0),
      returned: lots.reduce((n, l) => n + l.returned, 0),
      bagged: lots.reduce((n, l) => n + l.returns.reduce((m, r) => m + r.quantity - r.notYetBagged, 0), 0),
    },
    lots,
  };
}

function lotQueryError(message: string): AppError {
  return new AppError('LOT_TRACE_QUERY_INVALID', message, [{ field: '/query', code: 'lot_query', message }]);
}
