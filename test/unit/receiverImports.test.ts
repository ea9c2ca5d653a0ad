// The receiver never runs effects, and its imports say so: nothing reachable from src/bin/server.ts
// (the receiver's entry point) is under activities/, not even a type (a type import is how the HTTP
// layer once reached activities/index.ts through src/observability/metrics.ts).
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** Every project file reachable from `entry` through relative imports (type imports included). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [path.join(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'(\.[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const hit = [`${base}.ts`, path.join(base, 'index.ts'), base].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
      if (hit && hit.endsWith('.ts')) todo.push(hit);
    }
  }
  return seen;
}

test('nothing the receiver imports is under activities/', () => {
  const files = [...reachable('src/bin/server.ts')].map((f) => path.relative(ROOT, f));
  expect(files).toContain('src/http/app.ts');
  expect(files).toContain('src/observability/metrics.ts');
  expect(files.filter((f) => f.startsWith('activities/'))).toEqual([]);
});

test('the worker does reach them (the walk finds what is there)', () => {
  const files = [...reachable('src/bin/worker.ts')].map((f) => path.relative(ROOT, f));
  expect(files).toContain('activities/index.ts');
});
