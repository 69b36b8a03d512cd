import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { Decimal, isDecimal, type MxValue } from '@runplane/expressions';
import { HASHED_STRING_MASK, type MxObject, type RunplaneUnitOfWork } from '../src/index.js';
import { BACKENDS } from './support/databases.js';
import { SYSTEM_CONTEXT, modelOf, suiteDatabase, userContext } from './support/fixtures.js';

const LAB = `module: Lab
moduleRoles: [User]
enumerations:
  Colour: { values: { Red: Red, Green: Green, Blue: Blue } }
entities:
  Sample:
    system: { createdDate: true, changedDate: true }
    attributes:
      Short: { type: String, length: 10 }
      Memo: { type: String, length: unlimited }
      Count: Integer
      Big: Long
      Amount: Decimal
      Flag: Boolean
      When: DateTime
      Colour: { type: Enumeration, enumeration: Colour, default: Green }
      Seq: { type: AutoNumber, start: 1000 }
      Secret: HashedString
      Data: Binary
    access:
      - roles: [User]
        create: true
        defaultMemberAccess: readWrite
`;
const APP = `app: Lab
security:
  level: production
  userRoles:
    User: { moduleRoles: [Lab.User] }
`;

const model = modelOf({ 'app.yaml': APP, 'Lab.yaml': LAB });

/** Stores one Sample with `values` and reads it back in a new unit of work. */
async function roundTrip(
  db: {
    transaction: <T>(u: typeof SYSTEM_CONTEXT, w: (uow: RunplaneUnitOfWork) => Promise<T>) => Promise<T>;
  },
  values: Record<string, MxValue>,
): Promise<MxObject> {
  const id = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const sample = await uow.instantiate('Lab.Sample');
    for (const [name, value] of Object.entries(values)) sample.set(name, value);
    await uow.commit([sample]);
    return sample.id;
  });
  const [read] = await db.transaction(SYSTEM_CONTEXT, (uow) => uow.retrieveByIds([id], 'Lab.Sample'));
  if (read === undefined) throw new TypeError('the sample was not stored');
  return read;
}

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe.each(BACKENDS)('attribute types on %s', (backend) => {
  const suite = suiteDatabase(backend, 'types', () => model);

  it('keeps a Decimal with 20 integer and 8 fraction digits exactly, and rounds a 9th digit half to even', async () => {
    const max = new Decimal('99999999999999999999.99999999');
    const read = await roundTrip(suite.db, { Amount: max });
    expect((read.get('Amount') as Decimal).toFixed()).toBe('99999999999999999999.99999999');
    const negative = await roundTrip(suite.db, { Amount: new Decimal('-12345678901234567890.12345678') });
    expect((negative.get('Amount') as Decimal).toFixed()).toBe('-12345678901234567890.12345678');
    const halfEven = await roundTrip(suite.db, { Amount: new Decimal('0.123456785') });
    expect((halfEven.get('Amount') as Decimal).toFixed()).toBe('0.12345678');
    const halfEvenUp = await roundTrip(suite.db, { Amount: new Decimal('0.123456775') });
    expect((halfEvenUp.get('Amount') as Decimal).toFixed()).toBe('0.12345678');
    expect(isDecimal(read.get('Amount'))).toBe(true);
  });

  it('refuses a Decimal with 21 integer digits', async () => {
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(
        codeOf(() => {
          sample.set('Amount', new Decimal('100000000000000000000'));
        }),
      ).toBe('INVALID_MEMBER_VALUE');
    });
  });

  it('keeps Integer at its 32-bit limits and Long at its 64-bit limits, and refuses values beyond', async () => {
    const low = await roundTrip(suite.db, { Count: -2147483648n, Big: -9223372036854775808n });
    expect(low.get('Count')).toBe(-2147483648n);
    expect(low.get('Big')).toBe(-9223372036854775808n);
    const high = await roundTrip(suite.db, { Count: 2147483647n, Big: 9223372036854775807n });
    expect(high.get('Count')).toBe(2147483647n);
    expect(high.get('Big')).toBe(9223372036854775807n);
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(
        codeOf(() => {
          sample.set('Count', 2147483648n);
        }),
      ).toBe('INVALID_MEMBER_VALUE');
      expect(
        codeOf(() => {
          sample.set('Big', 9223372036854775808n);
        }),
      ).toBe('INVALID_MEMBER_VALUE');
    });
  });

  it('keeps non-ASCII strings at their length limit, counting characters, and refuses one more', async () => {
    const ten = 'ÄÖßé漢字😀🎉ñΩ';
    expect(Array.from(ten)).toHaveLength(10);
    const read = await roundTrip(suite.db, { Short: ten });
    expect(read.get('Short')).toBe(ten);
    const long = 'Zürich ✓ '.repeat(20_000);
    expect((await roundTrip(suite.db, { Memo: long })).get('Memo')).toBe(long);
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(
        codeOf(() => {
          sample.set('Short', `${ten}x`);
        }),
      ).toBe('INVALID_MEMBER_VALUE');
    });
  });

  it('keeps the instant of a DateTime to the millisecond, whatever the time zones of writer and reader', async () => {
    const instants = [
      '2024-03-31T01:30:00.123+01:00',
      '2024-10-27T02:30:00.456+02:00',
      '1969-07-20T20:17:40.999Z',
    ];
    for (const text of instants) {
      const when = new Date(text);
      const id = await suite.db.transaction(userContext('', ['User'], 'Asia/Kolkata'), async (uow) => {
        const sample = await uow.asSystem().instantiate('Lab.Sample');
        sample.set('When', when);
        await uow.asSystem().commit([sample]);
        return sample.id;
      });
      const [read] = await suite.db.transaction(userContext('', ['User'], 'America/Los_Angeles'), (uow) =>
        uow.retrieveByIds([id], 'Lab.Sample'),
      );
      expect((read?.get('When') as Date).getTime()).toBe(when.getTime());
    }
  });

  it('computes date parts in XPath in the user’s time zone', async () => {
    // 23:30 UTC on 31 March is 01:30 on 1 April in Amsterdam (summer time).
    const read = await roundTrip(suite.db, { When: new Date('2024-03-31T23:30:00Z'), Short: 'tz-probe' });
    const find = (timeZone: string): Promise<readonly string[]> =>
      suite.db.transaction(userContext('', ['User'], timeZone), async (uow) => {
        const result = await uow.retrieve({
          entity: 'Lab.Sample',
          xpath: "[Short = 'tz-probe' and day-from-dateTime(When) = 1 and month-from-dateTime(When) = 4]",
        });
        return result.objects.map((o) => o.id);
      });
    expect(await find('Europe/Amsterdam')).toEqual([read.id]);
    expect(await find('UTC')).toEqual([]);
  });

  it('keeps enumeration keys and refuses a key the enumeration does not have', async () => {
    expect((await roundTrip(suite.db, { Colour: 'Blue' })).get('Colour')).toBe('Blue');
    expect((await roundTrip(suite.db, {})).get('Colour')).toBe('Green');
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(
        codeOf(() => {
          sample.set('Colour', 'Purple');
        }),
      ).toBe('INVALID_MEMBER_VALUE');
    });
  });

  it('keeps Booleans, defaulting to false, and never lets them be empty', async () => {
    expect((await roundTrip(suite.db, { Flag: true })).get('Flag')).toBe(true);
    expect((await roundTrip(suite.db, {})).get('Flag')).toBe(false);
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(
        codeOf(() => {
          sample.set('Flag', null);
        }),
      ).toBe('INVALID_MEMBER_VALUE');
    });
  });

  it('keeps every byte of Binary values', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const read = await roundTrip(suite.db, { Data: bytes });
    expect([...(read.get('Data') as Uint8Array)]).toEqual([...bytes]);
  });

  it('keeps empty values empty, and gives numbers Mendix’s default of 0', async () => {
    expect(((await roundTrip(suite.db, {})).get('Amount') as Decimal).toFixed()).toBe('0');
    const read = await roundTrip(suite.db, { Count: null, Big: null, Amount: null });
    for (const name of ['Short', 'Memo', 'Count', 'Big', 'Amount', 'When', 'Data', 'Secret']) {
      expect(read.get(name)).toBeNull();
    }
  });

  it('numbers AutoNumbers from the model’s start value and never lets them be set', async () => {
    const first = await roundTrip(suite.db, { Short: 'n1' });
    const second = await roundTrip(suite.db, { Short: 'n2' });
    const a = first.get('Seq') as bigint;
    const b = second.get('Seq') as bigint;
    expect(a).toBeGreaterThanOrEqual(1000n);
    expect(b).toBeGreaterThan(a);
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const sample = await uow.instantiate('Lab.Sample');
      expect(sample.get('Seq')).toBeNull();
      expect(
        codeOf(() => {
          sample.set('Seq', 5n);
        }),
      ).toBe('MEMBER_NOT_WRITABLE');
    });
  });

  it('sets createdDate and changedDate on commit, and never lets them be set', async () => {
    const before = Date.now();
    const read = await roundTrip(suite.db, { Short: 'dates' });
    const created = (read.get('createdDate') as Date).getTime();
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect((read.get('changedDate') as Date).getTime()).toBe(created);
    expect(
      codeOf(() => {
        read.set('createdDate', new Date());
      }),
    ).toBe('MEMBER_NOT_WRITABLE');
  });

  it('stores a HashedString as a salted hash that verifies, but never reads it back', async () => {
    const read = await roundTrip(suite.db, { Secret: 'correct horse battery staple' });
    expect(read.get('Secret')).toBe(HASHED_STRING_MASK);
    await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const [sample] = await uow.retrieveByIds([read.id], 'Lab.Sample');
      if (sample === undefined) throw new TypeError('missing');
      expect(await uow.verifyHashedString(sample, 'Secret', 'correct horse battery staple')).toBe(true);
      expect(await uow.verifyHashedString(sample, 'Secret', 'Correct horse battery staple')).toBe(false);
      expect(uow.snapshot(sample).members).not.toHaveProperty('Secret');
    });
  });
});

describe('a HashedString in PostgreSQL', () => {
  const suite = suiteDatabase('postgres', 'hashed', () => model);

  it('holds a salted scrypt hash, never the text, and two equal texts hash differently', async () => {
    const ids = await suite.db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const a = await uow.instantiate('Lab.Sample');
      a.set('Secret', 'same text');
      const b = await uow.instantiate('Lab.Sample');
      b.set('Secret', 'same text');
      await uow.commit([a, b]);
      return [a.id, b.id];
    });
    const location = suite.location;
    if (location.kind !== 'postgres') throw new TypeError('expected PostgreSQL');
    const client = new pg.Client({ connectionString: location.url });
    await client.connect();
    try {
      const rows = await client.query<{ secret: string }>(
        'SELECT secret FROM "lab$sample" WHERE id = ANY($1)',
        [ids],
      );
      const [a, b] = rows.rows.map((r) => r.secret);
      expect(a).toMatch(/^\$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
      expect(a).not.toContain('same text');
      expect(a).not.toBe(b);
    } finally {
      await client.end();
    }
  });
});
