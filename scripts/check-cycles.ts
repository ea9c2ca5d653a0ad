// Import cycles among the project's own files, type-only imports included (`make lint`). knip's
// cycle check skips `import type`, but a type-only cycle still ties two modules' shapes together.
// usage: node --import tsx scripts/check-cycles.ts   (exit 1 and one line per cycle when any)
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');

function projectFiles(): { files: string[]; options: ts.CompilerOptions } {
  const configPath = path.join(ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config as unknown, ts.sys, ROOT);
  return { files: parsed.fileNames.map((f) => path.resolve(f)), options: parsed.options };
}

/** Each file's imports (static, type-only, re-exports, import()) that resolve to another project file. */
function importGraph(files: string[], options: ts.CompilerOptions): Map<string, string[]> {
  const inProject = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      const resolved = ts.resolveModuleName(ref.fileName, file, options, ts.sys).resolvedModule?.resolvedFileName;
      if (resolved && inProject.has(path.resolve(resolved))) targets.add(path.resolve(resolved));
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

/** Strongly connected components with more than one file (Tarjan): the files of each cycle, sorted. */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

function main(): void {
  const { files, options } = projectFiles();
  const found = cycles(importGraph(files, options));
  for (const scc of found) console.log(`import cycle: ${scc.map((f) => path.relative(ROOT, f)).join(' <-> ')}`);
  if (found.length > 0) {
    console.log(`${found.length} import cycle(s), type-only imports included`);
    process.exit(1);
  }
  console.log(`no import cycles in ${files.length} files`);
}

if (require.main === module) main();
