// Smoke test of the test stack itself: the servers globalSetup starts are reachable, Temporal knows
// the app's search attributes, and the database does what idempotency relies on. Also checks that
// docker-compose.yml registers the same search attributes as the dev/test servers.
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient, MongoServerError } from 'mongodb';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../src/temporal/searchAttributes';

// Numeric values of temporal.api.enums.v1.IndexedValueType (stable wire values).
const INDEXED_VALUE_TYPE: Record<string, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

const unitOnly = process.env.TEST_UNIT_ONLY === '1';

(unitOnly ? describe.skip : describe)('test stack', () => {
  function requiredEnv(name: string): string {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: test/support/globalSetup.ts should have set it`);
    return value;
  }

  describe('Temporal', () => {
    let connection: Connection;

    beforeAll(async () => {
      connection = await Connection.connect({ address: requiredEnv('TEMPORAL_ADDRESS') });
    });
    afterAll(async () => {
      await connection?.close();
    });

    it('answers getSystemInfo and has the default namespace', async () => {
      const info = await connection.workflowService.getSystemInfo({});
      expect(info.serverVersion).toMatch(/^\d+\.\d+/);
      const { namespaces } = await connection.workflowService.listNamespaces({});
      expect(namespaces.map((n) => n.namespaceInfo?.name)).toContain(requiredEnv('TEMPORAL_NAMESPACE'));
    });

    it('has every search attribute the app uses, with its type', async () => {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      const expected = Object.fromEntries(
        SEARCH_ATTRIBUTE_FLAGS.map((flag) => {
          const [name, type] = flag.split('=');
          return [name, INDEXED_VALUE_TYPE[type]];
        }),
      );
      const actual = Object.fromEntries(Object.keys(expected).map((name) => [name, customAttributes?.[name]]));
      expect(actual).toEqual(expected);
    });

    it('exposes the temporal CLI binary', () => {
      const cli = requiredEnv('TEMPORAL_CLI_PATH');
      expect(() => fs.accessSync(cli, fs.constants.X_OK)).not.toThrow();
    });
  });

  describe('database', () => {
    let client: MongoClient;

    beforeAll(async () => {
      client = new MongoClient(requiredEnv('MONGODB_URI'), { serverSelectionTimeoutMS: 5000 });
      await client.connect();
    });
    afterAll(async () => {
      await client?.close();
    });

    it('uses a database named after this run', () => {
      expect(client.db().databaseName).toBe(requiredEnv('TEST_DB_PREFIX'));
    });

    it('inserts and finds a document', async () => {
      const col = client.db().collection<{ _id: string; n: number }>('stack_smoke');
      await col.insertOne({ _id: 'a', n: 1 });
      expect(await col.find({ _id: 'a' }).toArray()).toEqual([{ _id: 'a', n: 1 }]);
    });

    it('enforces unique indexes and applies upserts atomically', async () => {
      const col = client.db().collection<{ key: string; count?: number; first?: boolean }>('stack_effects');
      await col.createIndex({ key: 1 }, { unique: true });
      await col.insertOne({ key: 'call-1:email' });
      await expect(col.insertOne({ key: 'call-1:email' })).rejects.toMatchObject({ code: 11000 } satisfies Partial<MongoServerError>);

      const upsert = () =>
        col.findOneAndUpdate(
          { key: 'call-2:email' },
          { $inc: { count: 1 }, $setOnInsert: { first: true } },
          { upsert: true, returnDocument: 'after' },
        );
      expect(await upsert()).toMatchObject({ key: 'call-2:email', count: 1, first: true });
      expect(await upsert()).toMatchObject({ key: 'call-2:email', count: 2, first: true });
      expect(await col.countDocuments({ key: 'call-2:email' })).toBe(1);
    });
  });
});

describe('docker-compose.yml', () => {
  it('registers exactly the search attributes in SEARCH_ATTRIBUTE_FLAGS', () => {
    const compose = fs.readFileSync(path.join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
    const list = /for pair in ([^;]+);/.exec(compose)?.[1].trim().split(/\s+/);
    expect(list).toEqual([...SEARCH_ATTRIBUTE_FLAGS]);
  });
});
