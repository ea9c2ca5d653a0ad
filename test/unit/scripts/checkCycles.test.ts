// The import-cycle check of `make lint` (scripts/check-cycles.ts): its cycle finder, and the script
// itself on a tree with a type-only cycle.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cycles } from '../../../scripts/check-cycles';

test('finds every cycle, long and short, and nothing in a tree without one', () => {
  const graph = new Map<string, string[]>([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a', 'd']],
    ['d', []],
    ['e', ['f']],
    ['f', ['e']],
    ['g', ['g2']],
    ['g2', []],
  ]);
  expect(cycles(graph).sort()).toEqual([
    ['a', 'b', 'c'],
    ['e', 'f'],
  ]);
  expect(
    cycles(
      new Map([
        ['x', ['y']],
        ['y', []],
      ]),
    ),
  ).toEqual([]);
});

test('the script counts a type-only import as an edge and exits 1', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cycles-'));
  try {
    fs.mkdirSync(path.join(dir, 'scripts'));
    fs.copyFileSync(path.join(__dirname, '../../../scripts/check-cycles.ts'), path.join(dir, 'scripts/check-cycles.ts'));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.symlinkSync(path.join(__dirname, '../../../node_modules'), path.join(dir, 'node_modules'), 'dir');
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true }, include: ['src'] }),
    );
    fs.writeFileSync(
      path.join(dir, 'src/app.ts'),
      "import { routes } from './routes';\nexport interface Deps { n: number }\nroutes({ n: 1 });\n",
    );
    fs.writeFileSync(
      path.join(dir, 'src/routes.ts'),
      "import type { Deps } from './app';\nexport function routes(d: Deps): number { return d.n; }\n",
    );
    const run = () => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-cycles.ts'], { cwd: dir, encoding: 'utf8' });
    const withCycle = run();
    expect(withCycle.stdout).toContain('import cycle: src/app.ts <-> src/routes.ts');
    expect(withCycle.status).toBe(1);
    fs.writeFileSync(path.join(dir, 'src/routes.ts'), 'export function routes(d: { n: number }): number { return d.n; }\n');
    const without = run();
    expect(without.stdout).toContain('no import cycles in 2 files');
    expect(without.status).toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
