// docker-compose.yml is valid for the compose tool, and its app services can be scaled
// (`--scale worker=2 --scale receiver=2`): no fixed container name, no host port of their own.
// Needs the docker-compose binary (scripts/ensure-tools.sh installs Debian's as root), not an engine.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const FILE = path.join(ROOT, 'docker-compose.yml');

function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, cmd);
    if (dir && fs.existsSync(p)) return p;
  }
  return null;
}

const compose = onPath('docker-compose');
const run = (args: string[]) => spawnSync(compose!, ['-f', FILE, '-p', 'calls-api-check', ...args], { cwd: ROOT, encoding: 'utf8' });

/** Each service's block of `docker-compose config` output (services are indented two spaces). */
function serviceBlocks(yaml: string): Map<string, string> {
  const lines = yaml.split('\n');
  const start = lines.findIndex((l) => l === 'services:');
  const blocks = new Map<string, string>();
  let name: string | null = null;
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^ {2}([\w.-]+):\s*$/.exec(line);
    if (m) {
      name = m[1];
      blocks.set(name, '');
    } else if (name) {
      blocks.set(name, `${blocks.get(name)}${line}\n`);
    }
  }
  return blocks;
}

/** Host ports a service publishes, with the address they bind (undefined: every interface). */
function ports(block: string): { ip?: string; port: number }[] {
  const out: { ip?: string; port: number }[] = [];
  // docker-compose 1.29 prints a port with a host address in the short form, others in the long one.
  for (const m of block.matchAll(/^\s*- (?:(\d+\.\d+\.\d+\.\d+):)?(\d+):\d+(?:\/\w+)?\s*$/gm)) out.push({ ip: m[1], port: Number(m[2]) });
  for (const m of block.matchAll(/- (?:host_ip: (\S+)\s+)?published: "?(\d+)"?(?:\s+host_ip: (\S+))?/g))
    out.push({ ip: m[1] ?? m[3], port: Number(m[2]) });
  return out;
}
const publishedPorts = (block: string) => ports(block).map((p) => p.port);

(compose ? describe : describe.skip)(`docker-compose.yml (checked with ${compose ?? 'docker-compose: not installed'})`, () => {
  let services: Map<string, string>;

  beforeAll(() => {
    const res = run(['config']);
    if (res.status !== 0) throw new Error(`docker-compose config failed (exit ${res.status}):\n${res.stderr}`);
    services = serviceBlocks(res.stdout);
  });

  test('is valid, with every service the app needs', () => {
    expect([...services.keys()].sort()).toEqual(
      expect.arrayContaining(['mongodb', 'postgresql', 'proxy', 'receiver', 'temporal', 'temporal-ui', 'worker']),
    );
  });

  test.each(['receiver', 'worker'])('%s can be scaled: no container_name, no published host port', (name) => {
    const block = services.get(name)!;
    expect(block).toBeDefined();
    expect(block).not.toMatch(/container_name:/);
    expect(publishedPorts(block)).toEqual([]);
  });

  test('webhooks reach the receivers through the proxy on :3000, and no two services claim one host port', () => {
    expect(publishedPorts(services.get('proxy')!)).toEqual([3000]);
    // The proxy's nginx config is inline in the file (config output folds long strings anywhere).
    const source = fs.readFileSync(FILE, 'utf8');
    expect(source).toMatch(/proxy_pass \$\$receiver;/);
    expect(source).toMatch(/set \$\$receiver http:\/\/receiver:3000;/);
    // /metrics (no API key) stays inside: the proxy answers every spelling of it with a 404.
    expect(source).toMatch(/location ~\* \^\/\+metrics\(\/\|\$\$\) \{\s*return 404;\s*\}/);
    const all = [...services.values()].flatMap(publishedPorts);
    expect(new Set(all).size).toBe(all.length);
  });

  test('only the proxy listens on every interface; Temporal, its UI, Mailpit and Prometheus on loopback only', () => {
    const exposed: string[] = [];
    const loopback: string[] = [];
    for (const [name, block] of services)
      for (const p of ports(block)) (p.ip === '127.0.0.1' ? loopback : exposed).push(`${name}:${p.port}`);
    expect(exposed).toEqual(['proxy:3000']);
    expect(loopback.sort()).toEqual(['mailpit:8025', 'prometheus:9090', 'temporal-ui:8233', 'temporal:7233']);
  });

  test('an invalid file is refused (the check can fail)', () => {
    const broken = path.join(ROOT, '.test-data', `compose-broken-${process.pid}.yml`);
    fs.mkdirSync(path.dirname(broken), { recursive: true });
    fs.writeFileSync(broken, fs.readFileSync(FILE, 'utf8').replace('  worker:\n', '  worker:\n    no_such_key: 1\n'));
    try {
      const res = spawnSync(compose!, ['-f', broken, 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
      expect(res.status).not.toBe(0);
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });
});
