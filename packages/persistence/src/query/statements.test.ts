import { describe, expect, it } from 'vitest';
import { loadModelFromFiles, type CompiledModel } from '@runplane/model';
import { compileXPath } from '@runplane/expressions';
import { AccessPolicy, FULL_ACCESS } from '../access/policy.js';
import { DomainMap } from '../mapping/domain-map.js';
import { compileCount, compileSelect } from './statements.js';

const SHOP = `module: Shop
moduleRoles: [Buyer]
entities:
  Order:
    system: { owner: true }
    attributes:
      Note: { type: String, length: 100 }
      Total: Decimal
    access:
      - roles: [Buyer]
        xpath: "[System.owner = '[%CurrentUser%]']"
        defaultMemberAccess: read
      - roles: [Buyer]
        xpath: "[Total > 100]"
        members: { Note: read }
`;
const APP = `app: Shop
security:
  level: production
  userRoles: { Buyer: { moduleRoles: [Shop.Buyer] } }
`;

function load(): CompiledModel {
  const result = loadModelFromFiles([
    { path: 'app.yaml', text: APP },
    { path: 'Shop.yaml', text: SHOP },
  ]);
  if (!result.ok) throw new TypeError(result.errors.map((e) => e.message).join('\n'));
  return result.model;
}

describe('compiled statements', () => {
  const model = load();
  const map = new DomainMap(model);
  const buyer = new AccessPolicy(model).forUser({
    system: false,
    userId: undefined,
    userRoles: ['Buyer'],
    timeZone: '',
  });

  it('bind every value as a parameter, never writing it into the SQL', () => {
    const compiled = compileXPath("[Note = 'x'' or 1=1 --' and contains(Note, '50%') and Total >= 12.5]", {
      schema: model.schema,
      entity: 'Shop.Order',
      variables: new Map(),
    });
    if (!compiled.ok) throw new TypeError('bad xpath');
    const statement = compileSelect(map, buyer, buyer, 'Shop.Order', { xpath: compiled.query, paging: true });
    expect(statement.text).not.toContain('or 1=1');
    expect(statement.text).not.toContain('50%');
    expect(statement.text).not.toContain('12.5');
    expect(statement.params).toEqual(
      expect.arrayContaining([
        { kind: 'constant', value: "x' or 1=1 --" },
        { kind: 'constant', value: '%50\\%%' },
        { kind: 'constant', value: '12.5' },
        { kind: 'input', name: 'limit' },
      ]),
    );
    const placeholders = new Set([...statement.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    expect(placeholders.size).toBe(statement.params.length);
  });

  it('add the row constraints of the user’s rules and select a column per rule to decide what each row shows', () => {
    const statement = compileSelect(map, buyer, buyer, 'Shop.Order', {});
    expect(statement.text).toMatch(/WHERE \(a0\."system\$owner" = \$1::uuid OR a0\."total" > \$2::numeric\)/);
    expect(statement.shapes.get('Shop.Order')?.ruleColumns.filter((c) => c !== undefined)).toHaveLength(2);
  });

  it('leave the rules out for full access and keep only the parameters a count uses', () => {
    expect(compileSelect(map, FULL_ACCESS, FULL_ACCESS, 'Shop.Order', {}).text).not.toContain('WHERE (');
    const count = compileCount(map, buyer, 'Shop.Order', undefined);
    expect(count.text).toBe(
      'SELECT count(*) AS count FROM "shop$order" a0 WHERE (a0."system$owner" = $1::uuid OR a0."total" > $2::numeric)',
    );
    expect(count.params).toHaveLength(2);
  });
});
