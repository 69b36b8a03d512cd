/**
 * The microflow benchmarks. Every `*.ts` file next to this one (other than this file) is a
 * scenario: its default export is `{ name, run }`, where `run` measures the scenario against its
 * baseline in the same process and returns the figures. Each scenario prints one JSON line:
 * `{"scenario": name, ...figures}`.
 *
 * Run with `npm run bench:microflow`; `BENCH_SCENARIO=<name>` runs one scenario.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What a scenario file exports by default. */
interface Scenario {
  readonly name: string;
  run(): Promise<Readonly<Record<string, unknown>>>;
}

function isScenario(value: unknown): value is Scenario {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Scenario>).name === 'string' &&
    typeof (value as Partial<Scenario>).run === 'function'
  );
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.env['BENCH_SCENARIO'];
const files = (await readdir(here))
  .filter(
    (file) =>
      file.endsWith('.ts') && file !== 'main.ts' && !file.endsWith('.test.ts') && !file.endsWith('.d.ts'),
  )
  .sort();

let failed = false;
for (const file of files) {
  const module = (await import(pathToFileURL(join(here, file)).href)) as { default?: unknown };
  const scenario = module.default;
  if (!isScenario(scenario) || (only !== undefined && only !== scenario.name)) continue;
  try {
    const figures = await scenario.run();
    console.log(JSON.stringify({ scenario: scenario.name, ...figures }));
  } catch (error) {
    failed = true;
    console.log(
      JSON.stringify({
        scenario: scenario.name,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
}
if (failed) process.exitCode = 1;
