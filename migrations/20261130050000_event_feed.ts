// The event feed (issue 15, docs/events.md): an append-only, per-county feed of sales, returns,
// reversals, custody events and settlements, read by `GET /api/v1/counties/{countyId}/events`.
//
// - feed_events: one row per event, written by statement-level AFTER INSERT triggers with transition
//   tables on the tables the events describe — so in the same transaction, and set-based: a sync
//   run's one multi-row INSERT of sale lines writes all its sales' events in one INSERT … SELECT.
// - pos: the event's place in its county's feed, assigned at COMMIT by a deferred constraint trigger
//   under the row lock of the county's feed_counters row, which is held until the commit is complete.
//   So positions follow commit order with no gaps: a transaction that began earlier but commits later
//   gets the later positions, and a reader that sees position N sees every position below N. Rows of
//   a transaction still running have pos NULL and are invisible to everybody else anyway.
// - A restore or db:move copies the feed as it was (agrireturn.copying): no events are derived from
//   the copied rows and no positions are assigned again.
// Every key starts with county_id (Citus colocation).
import type { Knex } from 'knex';

export const FEED_CHANNEL = 'agrireturn_events';

const ISO = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A record whose lines (items) arrive in more than one statement of its transaction — the data
 * generator's COPY chunks may cut between them — has them added to its one event while that event is
 * still uncommitted. Once committed, an event is never changed (the update trigger refuses it).
 */
const mergeInto = (field: string, key: string) => `
    ON CONFLICT (county_id, id) DO UPDATE SET
      product_ids = ARRAY(SELECT DISTINCT x FROM unnest(feed_events.product_ids || EXCLUDED.product_ids) x),
      data = feed_events.data || jsonb_build_object('${field}', (SELECT jsonb_agg(x ORDER BY (x->>'${key}')::int)
        FROM jsonb_array_elements((feed_events.data->'${field}') || (EXCLUDED.data->'${field}')) x))`;

/** For each source table: the INSERT … SELECT over the transition table `n` that writes its events. */
const SOURCES: Record<string, string> = {
  // One event per sale, with its lines (a sale's lines are inserted in one statement, the run's too).
  sale_lines: `
    INSERT INTO feed_events (county_id, id, type, subject, time, product_ids, data)
    SELECT s.county_id, 'sale:' || s.id, 'cn.agrireturn.sale.recorded', 'sales/' || s.id, s.event_time,
           array_agg(DISTINCT n.product_id),
           jsonb_build_object('saleId', s.id, 'saleNo', s.sale_no, 'shopId', s.shop_id,
             'eventTime', ${ISO('s.event_time')}, 'businessDay', to_char(s.business_day, 'YYYY-MM-DD'), 'recordedAt', ${ISO('s.recorded_at')},
             'totalDepositFen', s.total_deposit_fen, 'depositMismatch', s.deposit_mismatch,
             'lines', jsonb_agg(jsonb_build_object('lineNo', n.line_no, 'productId', n.product_id, 'quantity', n.quantity,
               'depositPerContainerFen', n.deposit_per_container_fen, 'depositFen', n.deposit_fen) ORDER BY n.line_no))
      FROM n JOIN sales s ON s.county_id = n.county_id AND s.id = n.sale_id
     GROUP BY s.county_id, s.id
     ORDER BY min(s.sale_no)
    ${mergeInto('lines', 'lineNo')}`,
  return_items: `
    INSERT INTO feed_events (county_id, id, type, subject, time, product_ids, data)
    SELECT r.county_id, 'return:' || r.id, 'cn.agrireturn.return.recorded', 'returns/' || r.id, r.event_time,
           coalesce(array_agg(DISTINCT n.product_id) FILTER (WHERE n.product_id IS NOT NULL), '{}'),
           jsonb_build_object('returnId', r.id, 'returnNo', r.return_no, 'shopId', r.shop_id,
             'eventTime', ${ISO('r.event_time')}, 'businessDay', to_char(r.business_day, 'YYYY-MM-DD'), 'recordedAt', ${ISO('r.recorded_at')},
             'totalRefundFen', r.total_refund_fen,
             'items', jsonb_agg(jsonb_build_object('itemNo', n.item_no, 'productId', n.product_id, 'unitCode', n.unit_code, 'quantity', n.quantity,
               'inspection', n.inspection, 'outcome', n.outcome, 'reasonCode', n.reason_code, 'refundFen', n.refund_fen) ORDER BY n.item_no))
      FROM n JOIN returns r ON r.county_id = n.county_id AND r.id = n.return_id
     GROUP BY r.county_id, r.id
     ORDER BY min(r.return_no)
    ${mergeInto('items', 'itemNo')}`,
  reversals: `
    INSERT INTO feed_events (county_id, id, type, subject, time, product_ids, data)
    SELECT n.county_id, 'reversal:' || n.id, 'cn.agrireturn.reversal.recorded', 'reversals/' || n.id, n.event_time,
           coalesce((SELECT array_agg(DISTINCT l.product_id) FROM sale_lines l WHERE n.target_type = 'sale' AND l.county_id = n.county_id AND l.sale_id = n.target_id), '{}')
             || coalesce((SELECT array_agg(DISTINCT i.product_id) FROM return_items i WHERE n.target_type = 'return' AND i.county_id = n.county_id AND i.return_id = n.target_id AND i.product_id IS NOT NULL), '{}'),
           jsonb_build_object('reversalId', n.id, 'targetType', n.target_type, 'targetId', n.target_id, 'shopId', n.shop_id, 'reason', n.reason,
             'eventTime', ${ISO('n.event_time')}, 'recordedAt', ${ISO('n.recorded_at')})
      FROM n ORDER BY n.recorded_at, n.id`,
  custody_events: `
    INSERT INTO feed_events (county_id, id, type, subject, time, product_ids, data)
    SELECT n.county_id, 'custody:' || n.id, 'cn.agrireturn.custody.' || n.type,
           CASE WHEN n.bag_id IS NOT NULL THEN 'bags/' || n.bag_id WHEN n.manifest_id IS NOT NULL THEN 'manifests/' || n.manifest_id ELSE 'custody/' || n.id END,
           n.recorded_at, '{}',
           jsonb_build_object('custodyEventId', n.id, 'custodySeq', n.seq, 'custodyType', n.type, 'bagId', n.bag_id, 'manifestId', n.manifest_id,
             'recordedAt', ${ISO('n.recorded_at')}, 'hash', n.hash, 'prevHash', n.prev_hash, 'content', n.content)
      FROM n ORDER BY n.seq`,
  settlements: `
    INSERT INTO feed_events (county_id, id, type, subject, time, product_ids, data)
    SELECT n.county_id, 'settlement:' || n.id, 'cn.agrireturn.settlement.recorded', 'settlements/' || n.id, n.recorded_at, '{}',
           jsonb_build_object('settlementId', n.id, 'shopId', n.shop_id, 'period', n.period_key, 'asOf', ${ISO('n.as_of')},
             'direction', n.direction, 'amountFen', n.amount_fen, 'method', n.method, 'reference', n.reference, 'recordedAt', ${ISO('n.recorded_at')})
      FROM n ORDER BY n.recorded_at, n.id`,
};

export const FEED_SOURCE_TABLES = Object.keys(SOURCES);

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('feed_events', (t) => {
    // No foreign key to counties: a key share on the county row per event would queue behind the
    // custody lock (counties FOR UPDATE); the source rows the event is derived from carry that key.
    t.string('county_id', 6).notNullable();
    t.string('id', 64).notNullable(); // the CloudEvents id: '<kind>:<id of the record>', stable
    t.bigInteger('pos').nullable(); // place in the county's feed, assigned at commit
    t.string('type', 64).notNullable();
    t.string('subject', 100).notNullable();
    t.timestamp('time', { useTz: true }).notNullable();
    t.specificType('product_ids', 'uuid[]').notNullable(); // for a manufacturer's view
    t.jsonb('data').notNullable();
    t.primary(['county_id', 'id']);
  });
  // Insertion order inside one transaction (positions are handed out in it).
  await knex.raw(`ALTER TABLE feed_events ADD COLUMN seq bigserial NOT NULL`);
  await knex.raw(`CREATE UNIQUE INDEX feed_events_pos ON feed_events (county_id, pos)`);
  await knex.raw(`CREATE INDEX feed_events_pending ON feed_events (county_id, seq) WHERE pos IS NULL`);

  await knex.schema.createTable('feed_counters', (t) => {
    t.string('county_id', 6).notNullable();
    t.bigInteger('last_pos').notNullable();
    t.primary(['county_id']);
  });

  // Committed events never change and never go. Before its commit an event is visible to its own
  // transaction only, which may still add lines to it (mergeInto) and gives it its position.
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_feed_events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.pos IS NOT NULL OR (NEW.county_id, NEW.id, NEW.seq) IS DISTINCT FROM (OLD.county_id, OLD.id, OLD.seq) THEN
        RAISE EXCEPTION 'feed_events rows are immutable' USING ERRCODE = 'restrict_violation';
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER feed_events_no_update BEFORE UPDATE ON feed_events FOR EACH ROW EXECUTE FUNCTION agrireturn_feed_events_immutable()`);
  await knex.raw(`CREATE TRIGGER feed_events_no_delete BEFORE DELETE ON feed_events FOR EACH ROW EXECUTE FUNCTION agrireturn_forbid_delete()`);

  // At COMMIT: the transaction's events get the next positions of their counties (counties in code
  // order, so two transactions writing several counties cannot deadlock), then NOTIFY (delivered
  // with the commit). Fires once per row; the first firing does the work, the rest find nothing.
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_feed_assign() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      c record;
      top bigint;
    BEGIN
      IF current_setting('agrireturn.copying', true) = 'on' THEN RETURN NULL; END IF;
      PERFORM 1 FROM feed_events WHERE county_id = NEW.county_id AND id = NEW.id AND pos IS NULL;
      IF NOT FOUND THEN RETURN NULL; END IF;
      FOR c IN SELECT county_id, count(*) AS n FROM feed_events WHERE pos IS NULL GROUP BY county_id ORDER BY county_id LOOP
        INSERT INTO feed_counters AS f (county_id, last_pos) VALUES (c.county_id, c.n)
          ON CONFLICT (county_id) DO UPDATE SET last_pos = f.last_pos + EXCLUDED.last_pos
          RETURNING f.last_pos INTO top;
        UPDATE feed_events e SET pos = top - c.n + o.rn
          FROM (SELECT p.id, row_number() OVER (ORDER BY p.seq) AS rn FROM feed_events p WHERE p.county_id = c.county_id AND p.pos IS NULL) o
         WHERE e.county_id = c.county_id AND e.id = o.id;
        PERFORM pg_notify('${FEED_CHANNEL}', c.county_id);
      END LOOP;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE CONSTRAINT TRIGGER feed_events_assign AFTER INSERT ON feed_events DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION agrireturn_feed_assign()`);

  for (const [table, insert] of Object.entries(SOURCES)) {
    await knex.raw(`
      CREATE OR REPLACE FUNCTION agrireturn_feed_${table}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- A restore or db:move copies the source's feed as it was (src/backup/table-copy.ts).
        IF current_setting('agrireturn.copying', true) = 'on' THEN RETURN NULL; END IF;
        ${insert};
        RETURN NULL;
      END $$`);
    await knex.raw(`CREATE TRIGGER ${table}_feed AFTER INSERT ON ${table} REFERENCING NEW TABLE AS n FOR EACH STATEMENT EXECUTE FUNCTION agrireturn_feed_${table}()`);
  }

  // The integration principal of a manufacturer (docs/events.md "Who sees what"): reads the event
  // feed of its province's counties, limited to the products whose manufacturer is its name.
  await knex.raw(`ALTER TABLE users ADD COLUMN manufacturer varchar(200) NULL`);
  await knex.raw(`ALTER TABLE users DROP CONSTRAINT users_role`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role CHECK (role IN ('admin', 'province_official', 'county_official', 'inspector', 'clerk', 'hauler', 'facility_operator', 'manufacturer'))`);
  await knex.raw(`ALTER TABLE users DROP CONSTRAINT users_scope`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_scope CHECK (
    (role = 'admin') OR
    (role = 'province_official' AND province_code IS NOT NULL) OR
    (role = 'county_official' AND county_id IS NOT NULL) OR
    (role = 'inspector' AND county_id IS NOT NULL AND shop_id IS NULL AND hauler_id IS NULL AND facility_id IS NULL) OR
    (role = 'clerk' AND county_id IS NOT NULL AND shop_id IS NOT NULL) OR
    (role = 'hauler' AND county_id IS NOT NULL AND hauler_id IS NOT NULL) OR
    (role = 'facility_operator' AND county_id IS NOT NULL AND facility_id IS NOT NULL) OR
    (role = 'manufacturer' AND province_code IS NOT NULL AND manufacturer IS NOT NULL AND county_id IS NULL))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE users DROP CONSTRAINT users_scope`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_scope CHECK (
    (role = 'admin') OR
    (role = 'province_official' AND province_code IS NOT NULL) OR
    (role = 'county_official' AND county_id IS NOT NULL) OR
    (role = 'inspector' AND county_id IS NOT NULL AND shop_id IS NULL AND hauler_id IS NULL AND facility_id IS NULL) OR
    (role = 'clerk' AND county_id IS NOT NULL AND shop_id IS NOT NULL) OR
    (role = 'hauler' AND county_id IS NOT NULL AND hauler_id IS NOT NULL) OR
    (role = 'facility_operator' AND county_id IS NOT NULL AND facility_id IS NOT NULL))`);
  await knex.raw(`ALTER TABLE users DROP CONSTRAINT users_role`);
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_role CHECK (role IN ('admin', 'province_official', 'county_official', 'inspector', 'clerk', 'hauler', 'facility_operator'))`);
  await knex.raw(`ALTER TABLE users DROP COLUMN manufacturer`);
  for (const table of FEED_SOURCE_TABLES) {
    await knex.raw(`DROP TRIGGER ${table}_feed ON ${table}`);
    await knex.raw(`DROP FUNCTION agrireturn_feed_${table}()`);
  }
  await knex.schema.dropTable('feed_counters');
  await knex.schema.dropTable('feed_events');
  await knex.raw(`DROP FUNCTION agrireturn_feed_assign()`);
  await knex.raw(`DROP FUNCTION agrireturn_feed_events_immutable()`);
}
