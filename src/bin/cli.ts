// Administration CLI: organizations, API keys and per-platform webhook secrets.
//   tsx src/bin/cli.ts help
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { PROVIDERS, type Provider } from '../domain/events';
import { ConfigError, loadConfig } from '../config';
import { COMPLIANCE_HELP, COMPLIANCE_OPTIONS, ComplianceUsageError, runComplianceCommand } from '../cli/compliance';
import { EVENTS_HELP, EVENTS_OPTIONS, EventsUsageError, runEventsCommand } from '../cli/events';
import { RISKY_NUMBER_TYPES, parseCallingCode } from '../domain/spending';
import { SecretsKeyError, loadSecretsKey, requireSecretsKey, useSecretsKey } from '../store/secrets';
import { connectStore, type Store } from '../store/db';
import { type PollableProvider, DEFAULT_API_BASE_URLS } from '../providers/getCall';
import { getPlatformApi, platformCredentials, removePlatformApi, setPlatformApi } from '../store/platformApis';
import {
  DEFAULT_BASE_URLS,
  OUTBOUND_PROVIDERS,
  type OutboundProvider,
  getOutboundDialer,
  removeOutboundDialer,
  setOutboundDialer,
} from '../store/followUps';
import {
  addApiKey,
  createOrganization,
  generateApiKey,
  isWellFormedApiKey,
  listApiKeys,
  removeProviderSecret,
  revokeApiKey,
  setProviderSecret,
  setUnsignedAllowed,
  KEY_SCOPES,
  isKeyScope,
  OrganizationError,
} from '../store/organizations';

const HELP = `Usage: tsx src/bin/cli.ts <command> [options]

  org create --name NAME [--id ID]        create an organization and its first API key (printed once);
                                          ID: lowercase letters, digits, _ and - (an existing ID is an error)
  key create --org ORG_ID [--label TEXT] [--scope webhook|read|admin]
                                          add an API key to an organization (printed once);
                                          webhook: only POST /api/calls/webhook* (the key for
                                          dashboards and ?api_key= URLs); read: GET routes;
                                          admin (default): everything
  key list [--org ORG_ID]                 list keys with their scope (ids only; keys are stored hashed)
  key revoke KEY_ID                       revoke a key
  secret set --org ORG_ID --provider P (--secret-stdin | --secret-env VAR | --secret S)
             [--mode secret|bearer|hmac] [--header H]
             [--timestamp-header H] [--payload-format F] [--algorithm sha256|sha512|sha1]
             [--encoding hex|base64]
                                          store the webhook signing secret of a platform
                                          (P: ${PROVIDERS.join(', ')}); requests must then be signed.
                                          Prefer --secret-stdin or --secret-env: argv shows in ps.
                                          Stored AES-256-GCM encrypted with SECRETS_KEY
  secret remove --org ORG_ID --provider P  stop checking that platform's signature (while the organization
                                          stores any other secret, its unsigned requests stay refused)
  org allow-unsigned --org ORG_ID --provider P
                                          let that platform's route take unsigned requests although the
                                          organization stores signing secrets (off by default)
  org require-signed --org ORG_ID --provider P
                                          undo allow-unsigned
  outbound set --org ORG_ID --provider retell|vapi|bland (--api-key-stdin | --api-key-env VAR | --api-key KEY)
             [--base-url URL]
             [--from-number +1...] [--agent-id ID] [--phone-number-id ID] [--task TEXT]
             [--allowed-countries 1,44]   country calling codes follow-ups may dial (toll-fraud
                                          guard; default: the caller id's country; others become due)
             [--allow-number-types T,...] opt in to number types refused by default: premium-rate,
                                          shared-cost, uan, personal-number, international-network
                                          the platform API that places follow-up calls for the
                                          organization (agent id: Retell agent, Vapi assistant,
                                          Bland pathway; phone number id: Vapi only)
  outbound show --org ORG_ID              the organization's dialer (the API key is not shown)
  outbound remove --org ORG_ID            no dialer: follow-ups are recorded as due for a person
  platform set --org ORG_ID --provider retell|vapi|bland|twilio
             [--api-key-stdin | --api-key-env VAR | --api-key KEY] [--account-sid AC...] [--base-url URL]
                                          the API a call with no reported end is looked up with
                                          (after CALL_STALE_AFTER). Without a record: the outbound
                                          dialer's key when it is that platform, Retell's webhook
                                          secret (its API key), Twilio's webhook secret (the auth
                                          token; Twilio always needs --account-sid). Key stored
                                          AES-256-GCM encrypted with SECRETS_KEY
  platform show --org ORG_ID --provider P  what is stored (the key is not shown)
  platform remove --org ORG_ID --provider P
  dev-provision                           the development organization (org_dev) and its key:
                                          DEV_API_KEY if set, else the key kept in DEV_API_KEY_FILE

${COMPLIANCE_HELP}
${EVENTS_HELP}

Database from MONGODB_URI / MONGODB_DB.`;

class UsageError extends Error {}

const POLLABLE_PROVIDERS = Object.keys(DEFAULT_API_BASE_URLS);

function need(v: string | undefined, name: string): string {
  if (!v) throw new UsageError(`missing --${name}`);
  return v;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A secret from exactly one of --NAME-stdin, --NAME-env VAR, or --NAME (argv, visible in `ps`). */
async function secretFrom(values: Record<string, string | boolean | undefined>, name: 'secret' | 'api-key'): Promise<string> {
  const given = [values[`${name}-stdin`], values[`${name}-env`], values[name]].filter((v) => v !== undefined && v !== false);
  if (given.length !== 1) throw new UsageError(`give the ${name} exactly one way: --${name}-stdin, --${name}-env VAR or --${name} VALUE`);
  let v: string | undefined;
  if (values[`${name}-stdin`]) v = await readStdin();
  else if (typeof values[`${name}-env`] === 'string') {
    const variable = values[`${name}-env`] as string;
    v = process.env[variable];
    if (!v) throw new UsageError(`--${name}-env ${variable}: that environment variable is not set`);
  } else v = values[name] as string;
  if (!v) throw new UsageError(`the ${name} is empty`);
  return v;
}

async function run(argv: string[], store: Store, config: ReturnType<typeof loadConfig>): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      id: { type: 'string' },
      org: { type: 'string' },
      label: { type: 'string' },
      scope: { type: 'string' },
      provider: { type: 'string' },
      secret: { type: 'string' },
      mode: { type: 'string' },
      header: { type: 'string' },
      'timestamp-header': { type: 'string' },
      'payload-format': { type: 'string' },
      algorithm: { type: 'string' },
      encoding: { type: 'string' },
      'api-key': { type: 'string' },
      'base-url': { type: 'string' },
      'from-number': { type: 'string' },
      'agent-id': { type: 'string' },
      'phone-number-id': { type: 'string' },
      task: { type: 'string' },
      'allowed-countries': { type: 'string' },
      'allow-number-types': { type: 'string' },
      'account-sid': { type: 'string' },
      'secret-stdin': { type: 'boolean' },
      'secret-env': { type: 'string' },
      'api-key-stdin': { type: 'boolean' },
      'api-key-env': { type: 'string' },
      ...COMPLIANCE_OPTIONS,
      ...EVENTS_OPTIONS,
    },
  });
  const [noun, verb, arg] = positionals;
  const col = store.col;
  switch (`${noun} ${verb ?? ''}`.trim()) {
    case 'org create': {
      let orgId: string;
      try {
        orgId = await createOrganization(col, need(values.name, 'name'), values.id);
      } catch (err) {
        if (err instanceof OrganizationError) throw new UsageError(err.message);
        throw err;
      }
      const { key, keyId } = await addApiKey(col, orgId, { label: 'initial' });
      console.log(`organization: ${orgId}\nkey id:       ${keyId}\napi key:      ${key}\n(the key is shown only now; store it safely)`);
      return;
    }
    case 'key create': {
      const orgId = need(values.org, 'org');
      if (!(await col.organizations.findOne({ _id: orgId }))) throw new UsageError(`no organization ${orgId}`);
      const scope = values.scope ?? 'admin';
      if (!isKeyScope(scope)) throw new UsageError(`--scope must be one of ${KEY_SCOPES.join(', ')}`);
      const { key, keyId } = await addApiKey(col, orgId, { label: values.label, scope });
      console.log(`key id:  ${keyId}\nscope:   ${scope}\napi key: ${key}\n(the key is shown only now; store it safely)`);
      return;
    }
    case 'key list': {
      const keys = await listApiKeys(col, values.org);
      for (const k of keys)
        console.log(
          `${k.keyId}\t${k.orgId}\t${k.scope}\t${k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'}\t${k.label ?? ''}`,
        );
      if (keys.length === 0) console.log('no keys');
      return;
    }
    case 'key revoke': {
      const keyId = need(arg, 'KEY_ID (positional)');
      console.log((await revokeApiKey(col, keyId)) ? `revoked ${keyId}` : `no active key ${keyId}`);
      return;
    }
    case 'secret set': {
      const orgId = need(values.org, 'org');
      const provider = need(values.provider, 'provider') as Provider;
      if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
      requireSecretsKey();
      const cfg: Record<string, string> = { secret: await secretFrom(values, 'secret') };
      const opt = {
        mode: values.mode,
        header: values.header,
        timestampHeader: values['timestamp-header'],
        payloadFormat: values['payload-format'],
        algorithm: values.algorithm,
        encoding: values.encoding,
      };
      for (const [k, v] of Object.entries(opt)) if (v) cfg[k] = v;
      await setProviderSecret(col, orgId, provider, cfg);
      console.log(`stored the ${provider} webhook secret for ${orgId} (not shown)`);
      return;
    }
    case 'org allow-unsigned':
    case 'org require-signed': {
      const orgId = need(values.org, 'org');
      const provider = need(values.provider, 'provider') as Provider;
      if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
      const allow = verb === 'allow-unsigned';
      if (!(await setUnsignedAllowed(col, orgId, provider, allow))) throw new UsageError(`no organization ${orgId}`);
      console.log(
        allow
          ? `unsigned ${provider} webhooks are accepted for ${orgId}, although it stores signing secrets`
          : `unsigned ${provider} webhooks are refused for ${orgId} while it stores any signing secret`,
      );
      return;
    }
    case 'secret remove': {
      const ok = await removeProviderSecret(col, need(values.org, 'org'), need(values.provider, 'provider') as Provider);
      console.log(ok ? 'removed' : 'there was no secret');
      return;
    }
    case 'outbound set': {
      const orgId = need(values.org, 'org');
      const provider = need(values.provider, 'provider') as OutboundProvider;
      if (!OUTBOUND_PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${OUTBOUND_PROVIDERS.join(', ')}`);
      requireSecretsKey();
      const baseUrl = values['base-url'] ?? DEFAULT_BASE_URLS[provider];
      if (!/^https?:\/\/[^\s]+$/.test(baseUrl)) throw new UsageError(`--base-url must be an http(s) URL (got ${baseUrl})`);
      if (provider === 'vapi' && (!values['phone-number-id'] || !values['agent-id']))
        throw new UsageError('Vapi needs --phone-number-id and --agent-id (the assistant)');
      let allowedCountryCodes: string[] | undefined;
      if (values['allowed-countries'] !== undefined) {
        const codes = values['allowed-countries'].split(',').map(parseCallingCode);
        if (codes.length === 0 || codes.some((c) => c === undefined))
          throw new UsageError('--allowed-countries takes country calling codes like 1,44,49');
        allowedCountryCodes = codes as string[];
      }
      const allowedNumberTypes = values['allow-number-types']?.split(',').map((t) => t.trim());
      if (allowedNumberTypes?.some((t) => !(RISKY_NUMBER_TYPES as readonly string[]).includes(t)))
        throw new UsageError(`--allow-number-types takes ${RISKY_NUMBER_TYPES.join(', ')}`);
      await setOutboundDialer(col, {
        orgId,
        provider,
        baseUrl: baseUrl.replace(/\/+$/, ''),
        apiKey: await secretFrom(values, 'api-key'),
        fromNumber: values['from-number'],
        agentId: values['agent-id'],
        phoneNumberId: values['phone-number-id'],
        task: values.task,
        allowedCountryCodes,
        allowedNumberTypes,
      });
      console.log(`follow-up calls of ${orgId} will be placed with ${provider} at ${baseUrl} (API key stored, not shown)`);
      return;
    }
    case 'outbound show': {
      const orgId = need(values.org, 'org');
      const d = await getOutboundDialer(col, orgId);
      if (!d) {
        console.log(`no outbound dialer for ${orgId}: follow-ups are recorded as due for a person`);
        return;
      }
      const { apiKey, _id, ...shown } = d;
      console.log(JSON.stringify({ ...shown, apiKey: apiKey ? '(set)' : '(missing)' }, null, 2));
      return;
    }
    case 'outbound remove': {
      const orgId = need(values.org, 'org');
      console.log((await removeOutboundDialer(col, orgId)) ? `removed the outbound dialer of ${orgId}` : `${orgId} had no outbound dialer`);
      return;
    }
    case 'platform set':
    case 'platform show':
    case 'platform remove': {
      const orgId = need(values.org, 'org');
      const provider = need(values.provider, 'provider');
      if (!(POLLABLE_PROVIDERS as readonly string[]).includes(provider))
        throw new UsageError(`--provider must be one of ${POLLABLE_PROVIDERS.join(', ')}`);
      const p = provider as PollableProvider;
      if (verb === 'remove') {
        console.log(
          (await removePlatformApi(col, orgId, p)) ? `removed the ${p} API record of ${orgId}` : `${orgId} had no ${p} API record`,
        );
        return;
      }
      if (verb === 'show') {
        const d = await getPlatformApi(col, orgId, p);
        const found = await platformCredentials(col, orgId, p);
        console.log(
          JSON.stringify(
            {
              stored: d ? { baseUrl: d.baseUrl, accountSid: d.accountSid, apiKey: d.apiKey ? '(set)' : '(not set)' } : null,
              inUse:
                'missing' in found
                  ? found.missing
                  : { baseUrl: found.credentials.baseUrl, accountSid: found.credentials.accountSid, apiKey: '(set)' },
            },
            null,
            2,
          ),
        );
        return;
      }
      const baseUrl = values['base-url'];
      if (baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(baseUrl))
        throw new UsageError(`--base-url must be an http(s) URL (got ${baseUrl})`);
      const sid = values['account-sid'];
      if (sid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(sid))
        throw new UsageError('--account-sid must look like AC followed by 32 hex digits');
      if (p === 'twilio' && sid === undefined)
        throw new UsageError('Twilio needs --account-sid (the key defaults to the stored webhook auth token)');
      const keyGiven = values['api-key-stdin'] || values['api-key-env'] !== undefined || values['api-key'] !== undefined;
      if (keyGiven) requireSecretsKey();
      await setPlatformApi(col, orgId, p, { baseUrl, accountSid: sid, apiKey: keyGiven ? await secretFrom(values, 'api-key') : undefined });
      console.log(
        `calls of ${orgId} with no reported end are looked up at ${p}${baseUrl ? ` (${baseUrl})` : ''}${keyGiven ? ' (API key stored, not shown)' : ''}`,
      );
      return;
    }
    case 'dev-provision': {
      let key = config.dev.apiKey;
      if (!key) {
        const file = config.dev.apiKeyFile;
        key = existsSync(file) ? readFileSync(file, 'utf8').trim() : generateApiKey();
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, key + '\n', { mode: 0o600 });
      }
      if (!isWellFormedApiKey(key))
        throw new UsageError('DEV_API_KEY must look like ck_<8-32 letters or digits>_<16-128 url-safe characters>');
      const orgId = await createOrganization(col, 'Development', 'org_dev', { reuse: true });
      await addApiKey(col, orgId, { key, label: 'development' });
      console.log(`DEV_ORG_ID=${orgId}\nDEV_API_KEY=${key}`);
      return;
    }
    default:
      try {
        if (await runComplianceCommand(`${noun} ${verb ?? ''}`.trim(), arg, values, col)) return;
        if (await runEventsCommand(`${noun} ${verb ?? ''}`.trim(), arg, values, col)) return;
      } catch (err) {
        if (err instanceof ComplianceUsageError || err instanceof EventsUsageError) throw new UsageError(err.message);
        throw err;
      }
      throw new UsageError(noun === 'help' || !noun ? '' : `unknown command: ${positionals.join(' ')}`);
  }
}

async function main() {
  const config = loadConfig();
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === 'help' || argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  // dev-provision (run by `make start`) creates the development key file when no key is set.
  useSecretsKey(loadSecretsKey(config.secrets, argv[0] === 'dev-provision'));
  const store = await connectStore(config.mongo.uri, config.mongo.db);
  try {
    await run(argv, store, config);
  } finally {
    await store.close();
  }
}

main().catch((err) => {
  if (err instanceof UsageError) {
    if (err.message) console.error(`error: ${err.message}\n`);
    console.error(HELP);
    process.exit(2);
  }
  console.error(
    err instanceof ConfigError || err instanceof SecretsKeyError
      ? err.message
      : `error: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
