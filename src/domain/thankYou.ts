// The `post_call_thank_you` email: subject, plain text and HTML from the contact, the agent and
// the call. Pure (Intl only), so it is rendered the same in the activity and in tests.

export const THANK_YOU_TEMPLATE = 'post_call_thank_you';

/** What the email says: the contact, the agent and the call (not the activity's input). */
export interface ThankYouContent {
  callId: string;
  contactName?: string;
  /** The agent's display name if known, else its id. */
  agentName?: string;
  /** When the call happened, ISO-8601. */
  callDate?: string;
  durationSec?: number;
  /** The contact's IANA time zone, for the date in the text. */
  timezone?: string;
  /** Who signs the email. */
  senderName?: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** The thank-you email as the call's workflow tracks it (shown in getState and the UI's details). */
export interface EmailView {
  status: 'sending' | 'sent' | 'skipped' | 'failed';
  reason?: string;
  messageId?: string;
}

/** Failures of the send activity that no retry can fix: the contact has no address, or no mailer is set up. */
export const EMAIL_NOT_RETRIED: readonly string[] = ['NoEmailAddress', 'NoMailer'];

/**
 * The email after the send activity gave up: skipped when nothing could ever send it (not an
 * error of the call), failed when the mailer kept failing (the call record says so).
 */
export const emailAfterFailure = (err: { type?: string; message: string }, tries: number): EmailView =>
  err.type !== undefined && EMAIL_NOT_RETRIED.includes(err.type)
    ? { status: 'skipped', reason: err.message }
    : { status: 'failed', reason: `gave up after ${tries} tries: ${err.message}` };

/** "3 minutes 5 seconds", "45 seconds". */
export function spokenDuration(sec: number): string {
  const total = Math.max(0, Math.round(sec));
  const m = Math.floor(total / 60);
  const s = total % 60;
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (m === 0) return part(s, 'second');
  return s === 0 ? part(m, 'minute') : `${part(m, 'minute')} ${part(s, 'second')}`;
}

function spokenDate(isoDate: string | undefined, timezone: string | undefined): string | undefined {
  if (!isoDate) return undefined;
  const d = new Date(isoDate);
  if (Number.isNaN(d.getTime())) return undefined;
  const fmt = (tz: string) =>
    new Intl.DateTimeFormat('en-US', {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZone: tz,
      timeZoneName: 'short',
    }).format(d);
  try {
    return fmt(timezone ?? 'UTC');
  } catch {
    return fmt('UTC');
  }
}

/** Longest agent name an email shows; names are short, sentences are not. */
export const AGENT_NAME_MAX = 40;

/**
 * The agent's name as the email may show it, or undefined. It comes from a webhook's metadata,
 * which anyone with the key can forge, and goes into the subject and body sent from the
 * organization's address: only a short, name-like text is taken (letters, spaces, `'`, `-`, and a
 * `.` after an initial; at most 4 words), never a sentence, a link, a domain or an id.
 */
export function agentDisplayName(raw: string | undefined): string | undefined {
  const s = raw?.normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!s || s.length > AGENT_NAME_MAX || s.split(' ').length > 4) return undefined;
  if (!/^[\p{L}\p{M}][\p{L}\p{M}' -]*(?:\.(?: [\p{L}\p{M}][\p{L}\p{M}' -]*)?)*\.?$/u.test(s)) return undefined;
  return s;
}

/** A contact's name for the greeting: one line, control characters removed, at most 80 characters. */
export function contactDisplayName(raw: string | undefined): string | undefined {
  const s = raw
    ?.replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s ? s.slice(0, 80) : undefined;
}

export function renderThankYou(input: ThankYouContent): RenderedEmail {
  const name = contactDisplayName(input.contactName);
  const agent = agentDisplayName(input.agentName);
  const when = spokenDate(input.callDate, input.timezone);
  const length = input.durationSec !== undefined ? spokenDuration(input.durationSec) : undefined;
  const sender = input.senderName?.trim() || 'The team';

  const subject = agent ? `Thank you for speaking with ${agent}` : 'Thank you for your call';
  const greeting = name ? `Hi ${name},` : 'Hello,';
  const what = [
    'thank you for taking the time to talk with',
    agent ? ` ${agent}` : ' us',
    when ? ` on ${when}` : '',
    length ? ` (${length})` : '',
    '.',
  ].join('');
  const body = [
    `${greeting}`,
    '',
    `${what.charAt(0).toUpperCase()}${what.slice(1)}`,
    'If anything from the conversation needs a follow-up, just reply to this email and we will get back to you.',
    '',
    'Best regards,',
    sender,
    '',
    `Reference: call ${input.callId}`,
  ];
  const text = body.join('\n') + '\n';

  const h = escapeHtml;
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>' + h(subject) + '</title></head>',
    '<body style="font-family: Arial, Helvetica, sans-serif; color: #222; line-height: 1.5;">',
    `<p>${h(greeting)}</p>`,
    `<p>${h(what.charAt(0).toUpperCase() + what.slice(1))}</p>`,
    '<p>If anything from the conversation needs a follow-up, just reply to this email and we will get back to you.</p>',
    `<p>Best regards,<br>${h(sender)}</p>`,
    `<p style="color: #888; font-size: 12px;">Reference: call ${h(input.callId)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/**
 * Deterministic Message-ID of a call's thank-you email: a resend after a crash carries the same
 * id, so mail systems and readers can recognise the duplicate.
 */
export function thankYouMessageId(orgId: string, callId: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, (c) => `=${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `<thank-you.${safe(orgId)}.${safe(callId)}@calls-api>`;
}
