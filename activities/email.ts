// The post-call thank-you email, sent through SMTP exactly once per call: claimed in MongoDB
// before sending, marked sent after, with a deterministic Message-ID.
import { ApplicationFailure, Context } from '@temporalio/activity';
import nodemailer from 'nodemailer';
import { THANK_YOU_TEMPLATE, renderThankYou, thankYouMessageId } from '../src/domain/thankYou';
import type { Collections, EmailStatus } from '../src/store/db';
import { markCall } from '../src/store/calls';
import { getContactRecord } from '../src/store/contacts';
import { claimEmail, emailKey, getEmail, markEmailError, markEmailSent } from '../src/store/emails';

/** The part of a nodemailer transport the activity uses. */
export interface Mailer {
  sendMail(message: {
    from: string;
    to: string | { name: string; address: string };
    subject: string;
    text: string;
    html: string;
    messageId: string;
    headers?: Record<string, string>;
  }): Promise<{ messageId?: string; response?: string; accepted?: unknown[]; rejected?: unknown[] }>;
}

export interface EmailActivityDeps {
  col: Collections;
  /** SMTP transport; without one the email is recorded as skipped. */
  mailer?: Mailer;
  /** From address, e.g. `Acme Calls <calls@acme.example>`. */
  smtpFrom?: string;
}

export interface ThankYouInput {
  orgId: string;
  callId: string;
  contactId?: string;
  agentId?: string;
  /** A display name for the agent when the call's metadata carries one. */
  agentName?: string;
  callDate?: string;
  durationSec?: number;
}

export type ThankYouResult = { status: 'sent' | 'already-sent'; messageId: string; to: string };

const senderName = (from: string | undefined) => {
  const m = /^\s*"?([^"<]+?)"?\s*</.exec(from ?? '');
  return m?.[1];
};

const recordEmail = (
  col: Collections,
  orgId: string,
  callId: string,
  email: { status: EmailStatus; reason?: string; messageId?: string; to?: string },
) => markCall(col, orgId, callId, { email: { ...email, at: new Date() } });

/** The contact to thank, or why there is nobody to send to. */
async function recipient(col: Collections, mailer: Mailer | undefined, input: { orgId: string; contactId?: string }) {
  const contact = input.contactId ? await getContactRecord(col, input.orgId, input.contactId) : null;
  if (!contact?.email) {
    const reason = !input.contactId
      ? 'the call has no contact'
      : !contact
        ? `contact ${input.contactId} does not exist`
        : `contact ${input.contactId} has no email address`;
    return { contact: null, skip: { reason, type: 'NoEmailAddress' } } as const;
  }
  if (!mailer) return { contact: null, skip: { reason: 'no SMTP server is configured for the worker', type: 'NoMailer' } } as const;
  return { contact: { ...contact, email: contact.email }, mailer, skip: null } as const;
}

/**
 * Why the thank-you email cannot go out (no contact, no address, no SMTP server), recorded on the
 * call; null when it can. Database only: the call's workflow asks it inside a local activity
 * (thankYouSkipReason, or settleCall) and schedules the SMTP activity only when it is null.
 * Idempotent: a repeat records the same skip again.
 */
export async function thankYouSkip(
  col: Collections,
  mailer: Mailer | undefined,
  input: { orgId: string; callId: string; contactId?: string },
): Promise<string | null> {
  const { skip } = await recipient(col, mailer, input);
  if (skip) await recordEmail(col, input.orgId, input.callId, { status: 'skipped', reason: skip.reason });
  return skip?.reason ?? null;
}

export const createEmailActivities = ({ col, mailer, smtpFrom = 'Calls <calls@localhost>' }: EmailActivityDeps) => {
  return {
    /** Why the thank-you email cannot go out, recorded on the call; null when it can (see thankYouSkip). Runs recorded before settleCall replay with it. */
    async thankYouSkipReason(input: { orgId: string; callId: string; contactId?: string }): Promise<string | null> {
      return thankYouSkip(col, mailer, input);
    },

    /**
     * Sends `post_call_thank_you` to the call's contact. No email address (or no contact): recorded
     * as skipped and failed with the non-retryable `NoEmailAddress`. SMTP errors are retryable; the
     * workflow bounds the retries and then records the failure.
     *
     * The one window left: the SMTP server accepted the message (250) and this try died before the
     * `sent` mark. The next try then sends again, with the same Message-ID, so the duplicate is
     * recognisable; that is at most one extra copy, and only after a crash at that exact moment.
     */
    async sendThankYouEmail(input: ThankYouInput): Promise<ThankYouResult> {
      const { orgId, callId } = input;
      const { contact, mailer: smtp, skip } = await recipient(col, mailer, input);
      if (skip) {
        await recordEmail(col, orgId, callId, { status: 'skipped', reason: skip.reason });
        throw ApplicationFailure.nonRetryable(skip.reason, skip.type);
      }

      const key = emailKey(orgId, callId, THANK_YOU_TEMPLATE);
      const messageId = thankYouMessageId(orgId, callId);
      const info = Context.current().info;
      // A claim older than one try's time limit belongs to a try that is gone.
      const staleBefore = new Date(Date.now() - Math.max(1_000, info.startToCloseTimeoutMs ?? 30_000));
      const claim = await claimEmail(col, key, { orgId, callId, template: THANK_YOU_TEMPLATE, to: contact.email, messageId }, staleBefore);
      if (!claim.claimed) {
        if (claim.doc.status === 'sent') {
          await recordEmail(col, orgId, callId, { status: 'sent', messageId: claim.doc.messageId, to: claim.doc.to });
          return { status: 'already-sent', messageId: claim.doc.messageId, to: claim.doc.to };
        }
        throw ApplicationFailure.retryable(`thank-you email of ${callId} is being sent by another try`, 'EmailClaimHeld');
      }

      const rendered = renderThankYou({
        callId,
        contactName: contact.name,
        agentName: input.agentName ?? input.agentId,
        callDate: input.callDate,
        durationSec: input.durationSec,
        timezone: contact.timezone,
        senderName: senderName(smtpFrom),
      });
      try {
        const sent = await smtp.sendMail({
          from: smtpFrom,
          to: contact.name ? { name: contact.name, address: contact.email } : contact.email,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId,
          headers: { 'X-Calls-Template': THANK_YOU_TEMPLATE, 'X-Calls-Call-Id': callId },
        });
        await markEmailSent(col, orgId, key, sent.response);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        await markEmailError(col, orgId, key, message);
        await recordEmail(col, orgId, callId, {
          status: 'sending',
          reason: `try ${info.attempt} failed: ${message}`,
          messageId,
          to: contact.email,
        });
        throw ApplicationFailure.retryable(`SMTP: ${message}`, 'SmtpError');
      }
      await recordEmail(col, orgId, callId, { status: 'sent', messageId, to: contact.email });
      return { status: 'sent', messageId, to: contact.email };
    },

    /** After the last try: the call record says the email failed, and why. */
    async recordEmailFailure(input: { orgId: string; callId: string; reason: string }): Promise<void> {
      const key = emailKey(input.orgId, input.callId, THANK_YOU_TEMPLATE);
      await markEmailError(col, input.orgId, key, input.reason);
      const doc = await getEmail(col, input.orgId, key);
      if (doc?.status === 'sent') return;
      await recordEmail(col, input.orgId, input.callId, { status: 'failed', reason: input.reason, messageId: doc?.messageId, to: doc?.to });
    },
  };
};

/** A nodemailer SMTP transport from the `smtp` config. Timeouts stay below one activity try. */
export function createSmtpMailer(smtp: {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  timeoutMs?: number;
}): Mailer {
  const timeout = smtp.timeoutMs ?? 10_000;
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout * 2,
  });
}
