import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from './main.js';
import { memoryIo } from './testing.js';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));

describe('runplane check', () => {
  it('prints a one-line summary and exits 0 for the orders example', async () => {
    const io = memoryIo();
    const code = await main(['check', join(examples, 'orders')], io);
    expect(code).toBe(0);
    expect(io.stdout()).toMatch(
      /^.*orders: OK: 1 module, 5 entities, 4 associations, 1 enumeration, 3 constants, 12 microflows, 7 pages, 1 scheduled event, 2 REST services, 3 user roles \(version [0-9a-f]{12}\)\n$/,
    );
  });

  it('exits 0 for the helpdesk example', async () => {
    const io = memoryIo();
    expect(await main(['check', join(examples, 'helpdesk')], io)).toBe(0);
  });

  describe('on a broken model', () => {
    let dir = '';
    const domain = `module: Shop
entities:
  Order:
    generalization: Bse
    attributes: { Total: Decimal }
microflows:
  F:
    returnType: Integer
    start: done
    nodes:
      done: { kind: end, value: "'x'" }
`;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'runplane-cli-'));
      await writeFile(join(dir, 'Shop.yaml'), domain);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('prints every error as file:line:col  path  message and exits 1', async () => {
      const io = memoryIo();
      const code = await main(['check', dir], io);
      expect(code).toBe(1);
      expect(
        io
          .stdout()
          .split('\n')
          .filter((l) => l !== ''),
      ).toEqual([
        `${dir}/Shop.yaml:4:21  Shop/entities/Order/generalization  Unknown entity 'Shop.Bse'.`,
        `${dir}/Shop.yaml:11:34  Shop/microflows/F/nodes/done/value  The expression is a String but an Integer is expected at 1:1`,
      ]);
      expect(io.stderr()).toBe(`2 errors in ${dir}\n`);
    });

    it('prints hints under the errors with --hints', async () => {
      const io = memoryIo();
      await main(['check', '--hints', dir], io);
      expect(io.stdout()).toContain('    hint: ');
    });
  });

  it('exits 2 with the usage when the directory is missing from the command line', async () => {
    const io = memoryIo();
    expect(await main(['check'], io)).toBe(2);
    expect(io.stderr()).toContain('Usage: runplane check');
  });

  it('exits 1 with a MODEL_IO error for a directory that does not exist', async () => {
    const io = memoryIo();
    expect(await main(['check', '/nonexistent/model'], io)).toBe(1);
    expect(io.stdout()).toContain('/nonexistent/model:1:1');
  });
});

describe('runplane eval', () => {
  it('evaluates an expression and prints its value and type', async () => {
    const io = memoryIo();
    expect(await main(['eval', "toUpperCase('abc') + ' ' + toString(2 * 21)"], io)).toBe(0);
    expect(io.stdout()).toBe('{"value":"ABC 42","type":"String"}\n');
  });

  it('keeps Decimals exact and Longs beyond 2^53 whole', async () => {
    const io = memoryIo();
    await main(['eval', '--var', 'X=0.1', '--var', 'Big=9007199254740993', '$X + 0.2'], io);
    await main(['eval', '--var', 'Big=9007199254740993', '$Big + 1'], io);
    expect(io.stdout()).toBe(
      '{"value":"0.3","type":"Decimal"}\n{"value":"9007199254740994","type":"Long"}\n',
    );
  });

  it('uses the model given with --model: entities, enumerations and constants', async () => {
    const io = memoryIo();
    const order = '{"$entity":"Sales.Order","Total":"100","Status":"Placed"}';
    const code = await main(
      [
        'eval',
        '--model',
        join(examples, 'orders'),
        '--var',
        `Order=${order}`,
        '$Order/Total * @Sales.VatRate',
      ],
      io,
    );
    expect(code).toBe(0);
    expect(io.stdout()).toBe('{"value":"21","type":"Decimal"}\n');
    const io2 = memoryIo();
    await main(
      [
        'eval',
        '--model',
        join(examples, 'orders'),
        '--var',
        `Order=${order}`,
        '$Order/Status = Sales.OrderStatus.Placed',
      ],
      io2,
    );
    expect(io2.stdout()).toBe('{"value":true,"type":"Boolean"}\n');
  });

  it('prints an error with code, message and position, and exits 1', async () => {
    const io = memoryIo();
    expect(await main(['eval', '1 + lenght(2)'], io)).toBe(1);
    expect(JSON.parse(io.stdout())).toEqual({
      error: {
        code: 'EXPR_UNKNOWN_FUNCTION',
        message: expect.stringContaining('lenght') as string,
        position: { offset: 4, line: 1, column: 5 },
      },
    });
  });

  it('reads one expression per line from standard input and prints one JSON line each', async () => {
    const io = memoryIo(['1 + 1', '', "'a' + 'b'", '10 div 0']);
    const code = await main(['eval'], io);
    const lines = io
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { value: 2, type: 'Integer' },
      { value: 'ab', type: 'String' },
      {
        error: {
          code: 'EXPR_DIVISION_BY_ZERO',
          message: expect.any(String) as string,
          position: expect.any(Object) as object,
        },
      },
    ]);
    expect(code).toBe(1);
  });

  it('rejects a --var that is not name=json', async () => {
    const io = memoryIo();
    expect(await main(['eval', '--var', 'X', '1'], io)).toBe(2);
    expect(io.stderr()).toContain('--var takes name=json');
  });
});

describe('runplane', () => {
  it('lists the commands with --help and refuses unknown ones', async () => {
    const help = memoryIo();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.stdout()).toContain('check');
    expect(help.stdout()).toContain('eval');
    const unknown = memoryIo();
    expect(await main(['migrat'], unknown)).toBe(2);
    expect(unknown.stderr()).toContain("Unknown command 'migrat'");
  });
});
