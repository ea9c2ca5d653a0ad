// docker-compose.yml's Temporal matches the one `make start TEMPORAL=server` and the tests' second pass
// run (docs/temporal.md): the server version ensure-tools builds, the history shard count, the
// dynamic config file and the search attributes.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_HISTORY_SHARDS, DYNAMIC_CONFIG_FILE } from '../../../scripts/stack/temporalServer';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../../src/temporal/searchAttributes';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const ensureTools = fs.readFileSync(path.join(ROOT, 'scripts', 'ensure-tools.sh'), 'utf8');
const temporalService = /\n {2}temporal:\n([\s\S]*?)\n {2}\S/.exec(compose)![1];

test('the same server version as the temporal-server ensure-tools builds', () => {
  const built = /^TEMPORAL_SERVER_VERSION=v(\S+)/m.exec(ensureTools)![1];
  expect(temporalService).toContain(`image: temporalio/auto-setup:${built}\n`);
  // The one-shot service that registers the search attributes runs the same image.
  expect([...compose.matchAll(/image: temporalio\/auto-setup:(\S+)/g)].map((m) => m[1])).toEqual([built, built]);
});

test('the same number of history shards', () => {
  expect(temporalService).toContain(`NUM_HISTORY_SHARDS: "${DEFAULT_HISTORY_SHARDS}"`);
});

test('the same dynamic config file, mounted where DYNAMIC_CONFIG_FILE_PATH points', () => {
  const target = /DYNAMIC_CONFIG_FILE_PATH: (\S+)/.exec(temporalService)![1];
  const source = path.relative(ROOT, DYNAMIC_CONFIG_FILE);
  expect(temporalService).toContain(`- ./${source}:${target}:ro`);
  expect(fs.readFileSync(DYNAMIC_CONFIG_FILE, 'utf8')).toMatch(/^system\.forceSearchAttributesCacheRefreshOnRead:/m);
});

test('the same search attributes', () => {
  const pairs = /for pair in ([^;]+);/.exec(compose)![1].trim().split(/\s+/);
  expect(pairs).toEqual([...SEARCH_ATTRIBUTE_FLAGS]);
});
