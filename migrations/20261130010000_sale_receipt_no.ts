// The receipt number a shop terminal printed on a sale receipt (and in its QR code), so that any
// shop of the county can open the sale from the farmer's receipt (issue 14). Terminals number their
// receipts themselves (XS<day>-<terminal>-<n>), so the number is looked up, not a key.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sales ADD COLUMN receipt_no text');
  await knex.raw('ALTER TABLE sales ADD CONSTRAINT sales_receipt_no_length CHECK (receipt_no IS NULL OR length(receipt_no) BETWEEN 1 AND 40)');
  await knex.raw('CREATE INDEX sales_receipt_no ON sales (county_id, receipt_no) WHERE receipt_no IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS sales_receipt_no');
  await knex.raw('ALTER TABLE sales DROP COLUMN receipt_no');
}
