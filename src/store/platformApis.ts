// The credentials for asking a platform about a call (src/providers/getCall.ts): what the
// organization already stores where it can, and an explicit per-platform record otherwise.
import type { Collections } from './db';
import { docId } from './db';
import { getOutboundDialer } from './followUps';
import { getProviderSecret } from './organizations';
import { openSecret, sealSecret } from './secrets';
import type { PlatformApiDoc } from './types';
import { DEFAULT_API_BASE_URLS, type PlatformCredentials, type PollableProvider } from '../providers/getCall';

const aad = (orgId: string, provider: string) => `platform-api-key:${orgId}:${provider}`;

export async function setPlatformApi(
  col: Collections,
  orgId: string,
  provider: PollableProvider,
  v: { baseUrl?: string; apiKey?: string; accountSid?: string },
): Promise<void> {
  const set: Record<string, unknown> = { orgId, provider, updatedAt: new Date() };
  const unset: Record<string, ''> = {};
  const fields = {
    baseUrl: v.baseUrl?.replace(/\/+$/, ''),
    apiKey: v.apiKey === undefined ? undefined : sealSecret(v.apiKey, aad(orgId, provider)),
    accountSid: v.accountSid,
  };
  for (const [k, val] of Object.entries(fields)) {
    if (val === undefined) unset[k] = '';
    else set[k] = val;
  }
  await col.platformApis.updateOne(
    { _id: docId(orgId, provider) },
    { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
    { upsert: true },
  );
}

export async function getPlatformApi(col: Collections, orgId: string, provider: PollableProvider): Promise<PlatformApiDoc | null> {
  const doc = await col.platformApis.findOne({ _id: docId(orgId, provider), orgId });
  return doc && { ...doc, apiKey: doc.apiKey === undefined ? undefined : openSecret(doc.apiKey, aad(orgId, provider)) };
}

export async function removePlatformApi(col: Collections, orgId: string, provider: PollableProvider): Promise<boolean> {
  return (await col.platformApis.deleteOne({ _id: docId(orgId, provider) })).deletedCount === 1;
}

/**
 * The credentials to ask `provider` about a call of the organization, or why there are none. In
 * order: the platform's own record (`platform set`); the outbound dialer's API key when the dialer
 * is that platform; for Retell, the webhook secret, which is the Retell API key; for Twilio, the
 * webhook secret, which is the auth token (the account SID must come from `platform set`).
 */
export async function platformCredentials(
  col: Collections,
  orgId: string,
  provider: PollableProvider,
): Promise<{ credentials: PlatformCredentials } | { missing: string }> {
  const own = await getPlatformApi(col, orgId, provider);
  const dialer = provider === 'twilio' ? null : await getOutboundDialer(col, orgId);
  const fromDialer = dialer?.provider === provider ? dialer : undefined;
  const baseUrl = own?.baseUrl ?? fromDialer?.baseUrl ?? DEFAULT_API_BASE_URLS[provider];
  let apiKey = own?.apiKey ?? fromDialer?.apiKey;
  if (apiKey === undefined && (provider === 'retell' || provider === 'twilio')) {
    const secret = await getProviderSecret(col, orgId, provider);
    if (typeof secret?.secret === 'string') apiKey = secret.secret;
  }
  const how = `npx tsx src/bin/cli.ts platform set --org ${orgId} --provider ${provider}${provider === 'twilio' ? ' --account-sid AC...' : ''} --api-key-stdin`;
  if (apiKey === undefined) return { missing: `no ${provider} API credentials are stored for ${orgId} to ask about the call (${how})` };
  if (provider === 'twilio' && !own?.accountSid)
    return { missing: `no Twilio account SID is stored for ${orgId} to ask about the call (${how})` };
  return { credentials: { provider, baseUrl, apiKey, accountSid: own?.accountSid } };
}
