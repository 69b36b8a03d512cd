/**
 * The baseline of bench/rest: a bare Fastify + pg handler that answers the order feed's first
 * page for one user the way a developer would write it by hand: one SELECT of the columns the
 * feed exposes, with the filter the entity access adds (`System.owner = [%CurrentUser%]`), the
 * same order and limit, and the same JSON. It means what the stack's statement means (the
 * stack reads DateTimes as epoch milliseconds in SQL; here pg makes Dates, as usual). No
 * authentication, no gRPC, no model: what the full stack costs on top of this is the
 * measurement.
 *
 *   node --import tsx bench/rest/bare.ts   (PORT, DATABASE_URL, USER_ID from the environment;
 *                                           prints "listening" when ready)
 */
import Fastify from 'fastify';
import pg from 'pg';

const port = Number(process.env.PORT ?? '0');
const userId = process.env.USER_ID ?? '';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });

const SQL =
  'SELECT id, "number", status, subtotal, vat, total, note, placedon, approvedon FROM "sales$order" ' +
  'WHERE "system$owner" = $1 ORDER BY id LIMIT $2 OFFSET $3';

interface Row {
  id: string;
  number: string | null;
  status: string | null;
  subtotal: string | null;
  vat: string | null;
  total: string | null;
  note: string | null;
  placedon: Date | null;
  approvedon: Date | null;
}

/** A numeric column as the API writes Decimals: exact, without trailing zeros. */
function decimal(text: string | null): string | null {
  if (text === null) return null;
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

const app = Fastify();
app.get('/orders', async () => {
  const { rows } = await pool.query<Row>({ name: 'orders-page', text: SQL, values: [userId, 20, 0] });
  return {
    items: rows.map((r) => ({
      id: r.id,
      Number: r.number === null ? null : Number(r.number),
      Status: r.status,
      Subtotal: decimal(r.subtotal),
      Vat: decimal(r.vat),
      Total: decimal(r.total),
      Note: r.note,
      PlacedOn: r.placedon?.toISOString() ?? null,
      ApprovedOn: r.approvedon?.toISOString() ?? null,
    })),
    offset: 0,
    limit: 20,
  };
});
await app.listen({ host: '127.0.0.1', port });
console.log('listening');
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
