-- agrireturn on Citus: every table of the schema, classified once (docs/scale.md, "Past one server").
-- Run on the coordinator after `npm run migrate` has created the schema there, before any data is
-- loaded (or with data: Citus then copies it into the shards). Parents come before children, so every
-- foreign key finds its target already distributed or replicated.
--
-- County tables are distributed by county_id and colocated with each other: a county's rows of every
-- table live in the same shard group on one worker, so every transaction the application runs (all of
-- them name one county) is a single-node transaction, and every foreign key, primary key and unique
-- key includes county_id (test/db/citus-colocation.test.ts checks this against the live schema).
-- Global tables are reference tables: replicated to every node, written rarely (user administration,
-- logins), only ever referenced by county tables, never referencing them.
--
-- A new table must be added here: the colocation test fails for any table that is not classified.

CREATE EXTENSION IF NOT EXISTS citus;

-- Shards per colocation group: a province has ~100–180 counties; 64 shards spread them over up to 64
-- workers, and a shard group can be moved to a new worker (citus_move_shard_placement) as it grows.
SET citus.shard_count = 64;

-- Global (reference) tables.
SELECT create_reference_table('counties'); -- the county register: every county table's county_id refers to it
SELECT create_reference_table('users'); -- accounts of officials, clerks, haulers and facility staff; admins and province officials belong to no county (county_id NULL)
SELECT create_reference_table('sessions'); -- refresh sessions of users (a login is looked up by token before its county is known)
SELECT create_reference_table('auth_throttle'); -- failed-login counters keyed by login name or address, before any county is known
SELECT create_reference_table('server_secrets'); -- the server's signing secrets
SELECT create_reference_table('knex_migrations'); -- the migrator's record (the same on every node)
SELECT create_reference_table('knex_migrations_lock'); -- the migrator's lock

-- County tables, distributed by county_id, all in one colocation group anchored on townships.
SELECT create_distributed_table('townships', 'county_id', colocate_with => 'none');
SELECT create_distributed_table('entity_history', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('recovery_county_monthly', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('recovery_monthly', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('container_types', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_disposals', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_events', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('expiry_runs', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('facilities', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('haulers', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('idempotency_keys', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('reconciliation_runs', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('recovery_aggregation_state', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('reversals', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sms_inbound', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sms_outbox', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sms_rate_counters', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('terminal_resend_requests', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('closed_periods', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_disposal_bags', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_manifests', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('deposit_schedules', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('farmers', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('products', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('reconciliation_exceptions', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('shops', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sms_delivery_reports', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('code_registry_imports', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_bags', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_manifest_transporters', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_signatures', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('drawer_reports', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('ledger_accounts', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('returns', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sales', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('settlements', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('terminals', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_bag_items', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_inspections', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_manifest_bags', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('issued_unit_codes', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('ledger_transfers', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('refunds', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('return_items', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sale_lines', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('custody_discrepancies', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('deposit_lots', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('held_refunds', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('ledger_entries', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('return_allocations', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('sold_units', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('held_refund_decisions', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('held_refund_payouts', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('access_log', 'county_id', colocate_with => 'townships'); -- reads of personal data by inspectors and officials (issue 16)
SELECT create_distributed_table('reconciliation_day_books', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('reconciliation_dirty_days', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('reconciliation_book_state', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('book_unit_duplicates', 'county_id', colocate_with => 'townships');
-- The event feed (docs/events.md): events and the per-county position counter.
SELECT create_distributed_table('feed_events', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('feed_counters', 'county_id', colocate_with => 'townships');
-- Incentives (docs/incentives.md)
SELECT create_distributed_table('incentive_rates', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('incentive_allocations', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('points_accounts', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('points_redemptions', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('points_transfers', 'county_id', colocate_with => 'townships');
SELECT create_distributed_table('archive_runs', 'county_id', colocate_with => 'townships'); -- archive by year: the runs (the archive_<year> schemas are created by npm run archive, docs/traceability.md)
