import { describe, expect, it } from 'vitest';
import {
  MAX_IDENTIFIER_BYTES,
  entityTableName,
  identifier,
  joinTableName,
  quoteIdent,
  quoteLiteral,
  referenceColumnName,
} from './names.js';

describe('database names', () => {
  it('follow Mendix: module$entity lower-cased, associations after their qualified name', () => {
    expect(entityTableName('Sales.OrderLine')).toBe('sales$orderline');
    expect(referenceColumnName('Sales.OrderLine_Order')).toBe('sales$orderline_order');
    expect(joinTableName('Helpdesk.Ticket_Tag')).toBe('helpdesk$ticket_tag');
  });

  it('cut names longer than PostgreSQL keeps to a readable head and a stable hash', () => {
    const long = `module$${'very_long_entity_name_'.repeat(5)}`;
    const cut = identifier(long);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(cut.startsWith('module$very_long')).toBe(true);
    expect(identifier(long)).toBe(cut);
    expect(identifier(`${long}x`)).not.toBe(cut);
    // Bytes count, not characters: 40 two-byte letters are 80 bytes.
    expect(Buffer.byteLength(identifier('ä'.repeat(40)))).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
  });

  it('quote identifiers and literals so that no text can end them', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
});
