// The SQL of a unit trace: ONE statement that follows a unit code through every table it touches,
// each part found by an index on (county_id, unit_code), (county_id, id) or (county_id, bag_id /
// manifest_id / disposal id): sold_units_code_once, return_items_code, custody_bag_items_code,
// custody_events_bag / _manifest / _disposal. Each part comes back as JSON and is shaped by the service.
import type { Knex } from 'knex';
import { withClient } from '../../backup/table-copy.js';

export interface TraceRow {
  sale: Record<string, any> | null;
  product: Record<string, any> | null;
  returns: Array<Record<string, any>> | null;
  bag: Record<string, any> | null;
  manifest: Record<string, any> | null;
  transporters: Array<Record<string, any>> | null;
  inspection: Record<string, any> | null;
  discrepancies: Array<Record<string, any>> | null;
  disposal: Record<string, any> | null;
  events: Array<Record<string, any>> | null;
}

export const TRACE_SQL = `
WITH su AS (
  SELECT * FROM sold_units WHERE county_id = :county AND unit_code = :code
   ORDER BY (state = 'voided'), event_time DESC LIMIT 1
), ri AS (
  SELECT i.*, r.shop_id, r.event_time, r.recorded_at, r.business_day, r.return_no
    FROM return_items i JOIN returns r ON r.county_id = i.county_id AND r.id = i.return_id
   WHERE i.county_id = :county AND i.unit_code = :code
), bi AS (
  SELECT * FROM custody_bag_items WHERE county_id = :county AND unit_code = :code
), bg AS (
  SELECT b.* FROM custody_bags b JOIN bi ON b.county_id = bi.county_id AND b.id = bi.bag_id
), mf AS (
  SELECT m.* FROM custody_manifests m JOIN bg ON m.county_id = bg.county_id AND m.id = bg.manifest_id
), ins AS (
  SELECT n.* FROM custody_inspections n JOIN bg ON n.county_id = bg.county_id AND n.id = bg.inspection_id
), dp AS (
  SELECT d.* FROM custody_disposals d JOIN bg ON d.county_id = bg.county_id AND d.id = bg.disposal_id
)
SELECT
  (SELECT row_to_json(x) FROM (
     SELECT su.sale_id, su.line_no, su.deposit_fen, su.state, su.event_time, s.recorded_at, s.business_day, s.sale_no, s.receipt_no, s.actor,
            sh.id AS shop_id, sh.name AS shop_name, sh.licence_no AS shop_licence_no,
            f.id AS farmer_id, f.name AS farmer_name, f.phone_e164 AS farmer_phone,
            (v.id IS NOT NULL) AS reversed
       FROM su
       JOIN sales s ON s.county_id = su.county_id AND s.id = su.sale_id
       JOIN shops sh ON sh.county_id = su.county_id AND sh.id = su.shop_id
       JOIN farmers f ON f.county_id = su.county_id AND f.id = su.farmer_id
       LEFT JOIN reversals v ON v.county_id = su.county_id AND v.target_type = 'sale' AND v.target_id = su.sale_id) x) AS sale,
  (SELECT row_to_json(x) FROM (
     SELECT p.id, p.name, p.registration_no, p.manufacturer, p.gtin, ct.code AS container_type, ct.material, ct.tare_weight_g
       FROM products p JOIN container_types ct ON ct.county_id = p.county_id AND ct.id = p.container_type_id
      WHERE p.county_id = :county AND p.id = COALESCE((SELECT product_id FROM su), (SELECT product_id FROM ri WHERE product_id IS NOT NULL ORDER BY event_time LIMIT 1))) x) AS product,
  (SELECT json_agg(x ORDER BY x.event_time, x.return_no) FROM (
     SELECT ri.return_id, ri.item_no, ri.return_no, ri.event_time, ri.recorded_at, ri.business_day, ri.inspection, ri.outcome, ri.reason_code,
            ri.refund_fen, ri.likely_counterfeit,
            sh.id AS shop_id, sh.name AS shop_name, sh.licence_no AS shop_licence_no,
            rf.method AS refund_method, rf.reference AS refund_reference, rf.paid_at AS refund_paid_at, rf.amount_fen AS refund_total_fen,
            (v.id IS NOT NULL) AS reversed,
            h.id AS held_id, h.state AS held_state, h.reason AS held_reason, h.amount_fen AS held_amount_fen,
            hd.decision AS held_decision, hd.reason AS held_decision_reason, hd.decided_at AS held_decided_at,
            hp.method AS held_payout_method, hp.amount_fen AS held_payout_fen, hp.event_time AS held_paid_at
       FROM ri
       JOIN shops sh ON sh.county_id = ri.county_id AND sh.id = ri.shop_id
       LEFT JOIN refunds rf ON rf.county_id = ri.county_id AND rf.return_id = ri.return_id
       LEFT JOIN reversals v ON v.county_id = ri.county_id AND v.target_type = 'return' AND v.target_id = ri.return_id
       LEFT JOIN held_refunds h ON h.county_id = ri.county_id AND h.return_id = ri.return_id AND h.item_no = ri.item_no
       LEFT JOIN held_refund_decisions hd ON hd.county_id = h.county_id AND hd.held_refund_id = h.id
       LEFT JOIN held_refund_payouts hp ON hp.county_id = h.county_id AND hp.held_refund_id = h.id) x) AS returns,
  (SELECT row_to_json(x) FROM (
     SELECT bg.id, bg.shop_id, bg.material, bg.state, bg.seal_no, bg.declared_quantity, bg.expected_weight_g, bg.shop_weight_g,
            bg.created_at, bg.sealed_at, bi.recorded_at AS item_recorded_at, bg.holder_type, bg.holder_id
       FROM bg, bi) x) AS bag,
  (SELECT row_to_json(x) FROM (
     SELECT mf.id, mf.tracking_no, mf.status, mf.created_at, fa.id AS facility_id, fa.name AS facility_name, fa.licence_no AS facility_licence_no, fa.kind AS facility_kind
       FROM mf JOIN facilities fa ON fa.county_id = mf.county_id AND fa.id = mf.facility_id) x) AS manifest,
  (SELECT json_agg(x ORDER BY x.seq) FROM (
     SELECT t.seq, t.hauler_id, ha.name, ha.licence_no, t.recorded_at
       FROM mf JOIN custody_manifest_transporters t ON t.county_id = mf.county_id AND t.manifest_id = mf.id
       JOIN haulers ha ON ha.county_id = t.county_id AND ha.id = t.hauler_id) x) AS transporters,
  (SELECT row_to_json(x) FROM (
     SELECT ins.id, ins.outcome, ins.measured_weight_g, ins.seal_no_read, ins.seal_intact, ins.counted_quantity, ins.rejected_quantity,
            ins.supersedes_id, ins.recorded_at, ins.facility_id FROM ins) x) AS inspection,
  (SELECT json_agg(x ORDER BY x.no) FROM (
     SELECT d.no, d.type, d.expected_value, d.actual_value, d.comment
       FROM ins JOIN custody_discrepancies d ON d.county_id = ins.county_id AND d.inspection_id = ins.id) x) AS discrepancies,
  (SELECT row_to_json(x) FROM (
     SELECT dp.id, dp.method, dp.certificate_no, dp.disposed_on, dp.facility_licence_no, dp.recorded_at,
            dp.holder_facility_id, dp.disposal_facility_id, df.name AS disposal_facility_name
       FROM dp LEFT JOIN facilities df ON df.county_id = dp.county_id AND df.id = dp.disposal_facility_id) x) AS disposal,
  (SELECT json_agg(x ORDER BY x.seq) FROM (
     SELECT e.seq, e.id, e.type, e.bag_id, e.manifest_id, e.content, e.prev_hash, e.hash, e.recorded_at, p.hash AS before_hash
       FROM custody_events e
       LEFT JOIN custody_events p ON p.county_id = e.county_id AND p.seq = e.seq - 1
      WHERE e.county_id = :county AND (
            e.bag_id = (SELECT id FROM bg)
         OR (e.bag_id IS NULL AND e.manifest_id = (SELECT id FROM mf))
         OR (e.type = 'bags_disposed' AND (e.content->'data'->>'disposalId') = (SELECT id::text FROM dp)))) x) AS events
`;

// A named prepared statement: planning a statement of this many joins costs far more than running it
// (tens of ms against about one on a county-year), so each pooled connection plans it a few times
// and then keeps PostgreSQL's generic plan — every lookup an equality on an indexed key.
const PREPARED = { name: 'agrireturn_unit_trace_v1', text: TRACE_SQL.replace(/(?<!:):county\b/g, () => '$1').replace(/(?<!:):code\b/g, () => '$2') };

export async function traceRow(knex: Knex, countyId: string, unitCode: string): Promise<TraceRow> {
  const res = await withClient(knex, (client) => client.query({ ...PREPARED, values: [countyId, unitCode] }));
  return res.rows[0] as TraceRow;
}
