// Organizations, their API keys (stored as hashes, compared in constant time) and their
// per-platform webhook secrets.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Provider } from '../domain/events';
import { type Collections, type ApiKeyDoc, docId, isDuplicateKey } from './db';
import { openSecret, sealSecret } from './secrets';

const KEY_RE = /^ck_([A-Za-z0-9]{8,32})_([A-Za-z0-9_-]{16,128})$/;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export const newOrgId = () => `org_${randomBytes(6).toString('hex')}`;

/** A new key: `ck_<public id>_<secret>`. Only its hash is stored. */
export function generateApiKey(): string {
  return `ck_${randomBytes(6).toString('hex')}_${randomBytes(24).toString('base64url')}`;
}

export function isWellFormedApiKey(key: string): boolean {
  return KEY_RE.test(key);
}

/** Organization ids go into workflow ids, search attributes and URLs: lowercase letters, digits, `_` and `-`. */
export const ORG_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const isValidOrgId = (id: string): boolean => ORG_ID_RE.test(id);

export class OrganizationError extends Error {}

/**
 * Creates an organization. An invalid id, or the id of an existing organization, is an
 * OrganizationError, unless `reuse` (development provisioning, run at every start) says an
 * existing one is the one wanted.
 */
export async function createOrganization(col: Collections, name: string, id = newOrgId(), opts: { reuse?: boolean } = {}): Promise<string> {
  if (!isValidOrgId(id)) {
    throw new OrganizationError(
      `invalid organization id "${id}": 1 to 64 lowercase letters, digits, _ and -, starting with a letter or digit`,
    );
  }
  try {
    await col.organizations.insertOne({ _id: id, name, createdAt: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    if (!opts.reuse) throw new OrganizationError(`organization ${id} already exists`);
  }
  return id;
}

/**
 * What a key may do. `webhook`: only the webhook routes (the key pasted into dashboards and URLs);
 * `read`: the GET routes; `admin`: everything. Keys made before scopes existed are `admin`.
 */
export const KEY_SCOPES = ['webhook', 'read', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];
export const isKeyScope = (v: unknown): v is KeyScope => typeof v === 'string' && (KEY_SCOPES as readonly string[]).includes(v);

/** Stores a key for the organization; generates one unless given. Returns the key (shown once). */
export async function addApiKey(
  col: Collections,
  orgId: string,
  opts: { key?: string; label?: string; scope?: KeyScope } = {},
): Promise<{ key: string; keyId: string; scope: KeyScope }> {
  const key = opts.key ?? generateApiKey();
  const m = KEY_RE.exec(key);
  if (!m) throw new Error('API key must look like ck_<8-32 letters or digits>_<16-128 url-safe characters>');
  const keyId = m[1];
  const scope = opts.scope ?? 'admin';
  const doc: ApiKeyDoc = { _id: keyId, orgId, hash: sha256(key).toString('hex'), label: opts.label, scope, createdAt: new Date() };
  try {
    await col.apiKeys.insertOne(doc);
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await col.apiKeys.findOne({ _id: keyId });
    // Re-provisioning the same key for the same organization is fine; anything else is not.
    if (!existing || existing.orgId !== orgId || existing.hash !== doc.hash) throw new Error(`API key id ${keyId} is already in use`);
    if (existing.revokedAt) await col.apiKeys.updateOne({ _id: keyId }, { $unset: { revokedAt: '' } });
    return { key, keyId, scope: existing.scope ?? 'admin' };
  }
  return { key, keyId, scope };
}

export interface KeyIdentity {
  orgId: string;
  keyId: string;
  scope: KeyScope;
}

/** Who an API key is, or undefined for an unknown, revoked or malformed key. */
export async function identifyApiKey(col: Collections, key: string | undefined): Promise<KeyIdentity | undefined> {
  if (!key) return undefined;
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  const doc = await col.apiKeys.findOne({ _id: m[1] });
  const given = sha256(key);
  // Compare even when the id is unknown, so timing does not tell which ids exist.
  const stored = doc ? Buffer.from(doc.hash, 'hex') : Buffer.alloc(given.length);
  const equal = stored.length === given.length && timingSafeEqual(stored, given);
  if (!doc || !equal || doc.revokedAt) return undefined;
  return { orgId: doc.orgId, keyId: doc._id, scope: isKeyScope(doc.scope) ? doc.scope : 'admin' };
}

/** The organization an API key belongs to, or undefined for an unknown, revoked or malformed key. */
export async function orgForApiKey(col: Collections, key: string | undefined): Promise<string | undefined> {
  return (await identifyApiKey(col, key))?.orgId;
}

export async function listApiKeys(col: Collections, orgId?: string) {
  const docs = await col.apiKeys
    .find(orgId ? { orgId } : {})
    .sort({ createdAt: 1 })
    .toArray();
  return docs.map(({ _id, orgId: o, label, scope, createdAt, revokedAt }) => ({
    keyId: _id,
    orgId: o,
    label,
    scope: isKeyScope(scope) ? scope : 'admin',
    createdAt,
    revokedAt,
  }));
}

export async function revokeApiKey(col: Collections, keyId: string): Promise<boolean> {
  const r = await col.apiKeys.updateOne({ _id: keyId, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date() } });
  return r.modifiedCount === 1;
}

/** What binds a stored signing secret to its record. */
const secretAad = (orgId: string, provider: Provider) => `provider-secret:${orgId}:${provider}`;

export async function setProviderSecret(
  col: Collections,
  orgId: string,
  provider: Provider,
  config: Record<string, unknown>,
): Promise<void> {
  const stored = typeof config.secret === 'string' ? { ...config, secret: sealSecret(config.secret, secretAad(orgId, provider)) } : config;
  await col.providerSecrets.updateOne(
    { _id: docId(orgId, provider) },
    { $set: { orgId, provider, config: stored, updatedAt: new Date() } },
    { upsert: true },
  );
}

export async function removeProviderSecret(col: Collections, orgId: string, provider: Provider): Promise<boolean> {
  const r = await col.providerSecrets.deleteOne({ _id: docId(orgId, provider) });
  return r.deletedCount === 1;
}

export async function getProviderSecret(col: Collections, orgId: string, provider: Provider): Promise<Record<string, unknown> | undefined> {
  const doc = await col.providerSecrets.findOne({ _id: docId(orgId, provider), orgId });
  return doc ? openConfig(doc.config, orgId, provider) : undefined;
}

const openConfig = (config: Record<string, unknown>, orgId: string, provider: Provider) =>
  typeof config.secret === 'string' ? { ...config, secret: openSecret(config.secret, secretAad(orgId, provider)) } : config;

/**
 * How a webhook from `provider` must be authenticated. With the platform's secret stored: checked
 * against it. Without: refused unsigned once the organization stores any signing secret (a secret
 * for one platform must not be side-stepped through another route), unless the organization
 * explicitly allowed unsigned requests from that platform.
 */
export async function webhookSigning(
  col: Collections,
  orgId: string,
  provider: Provider,
): Promise<{ secret: Record<string, unknown> } | { secret?: undefined; unsignedAllowed: boolean }> {
  // One query for the common cases (the platform's secret, or no secret at all), as before the rule.
  const docs = await col.providerSecrets.find({ orgId }).limit(20).toArray();
  const own = docs.find((d) => d._id === docId(orgId, provider));
  if (own) return { secret: openConfig(own.config, orgId, provider) };
  if (docs.length === 0) return { unsignedAllowed: true };
  const org = await col.organizations.findOne({ _id: orgId }, { projection: { allowUnsigned: 1 } });
  return { unsignedAllowed: org?.allowUnsigned?.includes(provider) ?? false };
}

/** Lets (or stops letting) a platform's route take unsigned requests while other secrets are stored. */
export async function setUnsignedAllowed(col: Collections, orgId: string, provider: Provider, allowed: boolean): Promise<boolean> {
  const r = await col.organizations.updateOne(
    { _id: orgId },
    allowed ? { $addToSet: { allowUnsigned: provider } } : { $pull: { allowUnsigned: provider } },
  );
  return r.matchedCount === 1;
}

/** An organization's name, if it has one. */
export async function organizationName(col: Collections, orgId: string): Promise<string | undefined> {
  return (await col.organizations.findOne({ _id: orgId }, { projection: { name: 1 } }))?.name;
}

/** A key's organization and scope while it is not revoked, by the key's id (dashboard sessions re-check it). */
export async function activeKeyById(col: Collections, keyId: string): Promise<{ orgId: string; scope: ApiKeyDoc['scope'] } | null> {
  const doc = await col.apiKeys.findOne({ _id: keyId }, { projection: { orgId: 1, scope: 1, revokedAt: 1 } });
  return doc && !doc.revokedAt ? { orgId: doc.orgId, scope: doc.scope } : null;
}
