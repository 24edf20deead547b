// Adds `n` late-record exceptions to a stored reconciliation run, alternating between two shops, so
// paging and grouping have something to page and group (a real county month can have hundreds).
// The run row itself is immutable, so its exception_count stays; the exceptions endpoint counts rows.
import type { Knex } from 'knex';

export async function addLateRecordExceptions(knex: Knex, countyId: string, runId: string, shops: Array<{ id: string; name: string }>, n: number): Promise<number> {
  const last = await knex('reconciliation_exceptions').where({ county_id: countyId, run_id: runId }).max({ n: 'exception_no' }).first();
  let no = Number(last?.n ?? 0);
  const rows = Array.from({ length: n }, (_, i) => {
    const shop = shops[i % shops.length]!;
    no += 1;
    return {
      county_id: countyId, run_id: runId, exception_no: no, book: 'units', kind: 'late_record', severity: 'info', shop_id: shop.id, expected: null, actual: 1,
      message_en: `${shop.name}: 1 record(s) of the period reached the server after it ended (offline till)`,
      message_zh: `${shop.name}：1 条本期单据在期末之后才上传（离线终端）`, records: JSON.stringify([{ type: 'sale', id: `00000000-0000-7000-8000-${String(no).padStart(12, '0')}` }]),
    };
  });
  await knex('reconciliation_exceptions').insert(rows);
  return no;
}
