// Business records are kept for at least two years (Pesticide Management Regulation art. 27 and the
// 2020 packaging-waste Measures): a trigger refuses DELETE on every table that opts in, so not even a
// careless script can remove history. Corrections are new rows; retirement is a flag.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION agrireturn_forbid_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'business records are never deleted (table %): deactivate or correct instead', TG_TABLE_NAME
        USING ERRCODE = 'P0001', HINT = 'agrireturn:no_delete';
    END;
    $$;
  `);
}
