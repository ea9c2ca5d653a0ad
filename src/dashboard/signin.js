// The sign-in page's only script: shows why the last attempt failed (the server redirects back
// with ?error=<code>, never with the key) and focuses the field.
const MESSAGES = {
  invalid: 'That key is unknown or revoked.',
  webhook: 'A webhook key cannot sign in: use a read or admin key.',
  missing: 'Paste a read or admin API key.',
  expired: 'Your session ended; sign in again.',
};
const code = new URLSearchParams(location.search).get('error');
const box = document.getElementById('signin-error');
if (code) {
  box.textContent = MESSAGES[code] ?? 'Sign-in failed.';
  box.hidden = false;
}
document.getElementById('key').focus();
