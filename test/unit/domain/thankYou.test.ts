// The names a thank-you email shows come from webhook data anyone with the key can send: only a
// short, name-like agent name reaches the subject and body, never a sentence, link or domain.
import { agentDisplayName, contactDisplayName, renderThankYou } from '../../../src/domain/thankYou';

test.each(['Sam', 'Dr. Ada Lovelace', 'José María', "Siobhán O'Neil", 'Anne-Marie', 'J. R. Smith', '美咲'])('%s is shown', (n) => {
  expect(agentDisplayName(n)).toBe(n);
});

test.each([
  'our security team. Your account is locked: reset it at https://evil.example/reset',
  'Support - verify at evil.example',
  'evil.example',
  'http://evil.example',
  'agent_7f3a2c',
  'Call +1 415 555 0100 now',
  'Sam\r\nBcc: victim@example.com',
  'Sam <sam@evil.example>',
  'a very long name with many words',
  'x'.repeat(41),
])('%j is not', (n) => {
  expect(agentDisplayName(n)).toBeUndefined();
});

test('a forged agent name never reaches the subject or the body; the email thanks "us" instead', () => {
  const phishing = 'IT support. Your mailbox is full, log in at https://evil.example/login';
  const e = renderThankYou({ callId: 'c1', contactName: 'Ada', agentName: phishing });
  expect(e.subject).toBe('Thank you for your call');
  expect(e.text).toContain('Thank you for taking the time to talk with us.');
  for (const part of [e.subject, e.text, e.html]) expect(part).not.toMatch(/evil|mailbox/);
  expect(renderThankYou({ callId: 'c1', agentName: '  Sam  ' }).subject).toBe('Thank you for speaking with Sam');
});

test("a contact's name is one bounded line", () => {
  expect(contactDisplayName('Ada\r\nBcc: x@example.com')).toBe('Ada Bcc: x@example.com');
  expect(contactDisplayName('y'.repeat(500))).toHaveLength(80);
  expect(renderThankYou({ callId: 'c', contactName: 'Ada\nLovelace' }).text).toContain('Hi Ada Lovelace,');
});
