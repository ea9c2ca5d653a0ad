// The default local database (scripts/stack: FerretDB over its own PostgreSQL), started the way
// `make start` and the test setup start it: data survives a restart, the pid file records both
// processes so a run killed before it could stop them is cleaned up by the next one, and as root
// PostgreSQL runs as an unprivileged user that owns its data folder.
import fs from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { PidFile, ROOT, freePort, isAlive as alive, startDatabase, type DatabaseHandle } from '../../scripts/stack';

jest.setTimeout(90_000);

const dir = path.join(process.env.TEST_DATA_DIR ?? path.join(ROOT, '.test-data'), `localdb-${process.pid}`);
const handles: DatabaseHandle[] = [];

async function start(): Promise<DatabaseHandle> {
  const db = await startDatabase({ port: await freePort(), dir, logFile: path.join(dir, 'ferretdb.log'), externalUri: null });
  handles.push(db);
  return db;
}

async function withClient<T>(uri: string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

afterAll(async () => {
  for (const h of handles.reverse()) await h.stop(5000).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

const onPathMongod = (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, 'mongod')));

(onPathMongod ? test.skip : test)(
  'FerretDB over PostgreSQL: data survives a restart; a killed run is cleaned up from its pid file',
  async () => {
    const first = await start();
    expect(first.kind).toBe('ferretdb');
    expect(first.backend).toBe('postgresql');
    const pg = first.postgres!;
    expect(pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/ferretdb$/);
    expect(pg.dataDir).toBe(path.join(dir, 'postgres'));

    // As root, PostgreSQL (which refuses root) runs as another user, who owns the data folder.
    const owner = fs.statSync(pg.dataDir).uid;
    if (process.getuid?.() === 0) expect(owner).not.toBe(0);
    else expect(owner).toBe(process.getuid?.());
    expect(fs.statSync(pg.dataDir).mode & 0o777).toBe(0o700);

    await withClient(first.uri, (c) =>
      c
        .db('localdb')
        .collection('things')
        .insertOne({ _id: 'kept' as never, n: 1 }),
    );

    // A run that dies without stopping its servers leaves them in its pid file; the next run stops
    // them from there: FerretDB first, then PostgreSQL (fast shutdown), none left running.
    const pidFile = new PidFile(path.join(dir, 'pids.json'));
    pidFile.claim();
    pidFile.add(first);
    const recorded = JSON.parse(fs.readFileSync(path.join(dir, 'pids.json'), 'utf8')) as {
      processes: { name: string; pid: number; signal?: string }[];
    };
    expect(recorded.processes.map((p) => [p.name, p.signal])).toEqual([
      ['postgres', 'SIGINT'],
      ['ferretdb', undefined],
    ]);
    const killed = await PidFile.killLeftovers(path.join(dir, 'pids.json'));
    expect(killed).toEqual([`ferretdb (pid ${first.pid})`, `postgres (pid ${pg.pid})`]);
    await Promise.all([first.exited, pg.exited]);
    expect([first.pid, pg.pid].filter((p) => alive(p!))).toEqual([]);

    // Same folder again: no new cluster, the document is still there.
    const second = await start();
    expect(second.postgres!.dataDir).toBe(pg.dataDir);
    const doc = await withClient(second.uri, (c) =>
      c
        .db('localdb')
        .collection('things')
        .findOne({ _id: 'kept' as never }),
    );
    expect(doc).toMatchObject({ n: 1 });
    await second.stop();
    expect([second.pid, second.postgres!.pid].filter((p) => alive(p!))).toEqual([]);
  },
);
