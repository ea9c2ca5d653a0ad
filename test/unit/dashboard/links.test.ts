// Which recording URLs the dashboard shows as links: the page's own module (src/dashboard/format.js),
// loaded by Node as the browser loads it, an ES module.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const FORMAT = path.resolve(__dirname, '..', '..', '..', 'src', 'dashboard', 'format.js');

function linkable(urls: string[]): (string | null)[] {
  const script = `import { linkable } from ${JSON.stringify(FORMAT)};
    process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map((u) => linkable(u) ?? null)));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(urls)], { encoding: 'utf8' })) as (
    string | null
  )[];
}

test('https links, and http on loopback, are links; every other scheme or host is text', () => {
  const urls = [
    'https://storage.example.com/rec/1.wav',
    'http://127.0.0.1:9000/rec.wav',
    'http://localhost/rec.wav',
    'http://[::1]:8080/rec.wav',
    'javascript:alert(document.cookie)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'http://evil.example.com/rec.wav',
    'ftp://example.com/rec.wav',
    'not a url',
    '',
  ];
  expect(linkable(urls)).toEqual([
    'https://storage.example.com/rec/1.wav',
    'http://127.0.0.1:9000/rec.wav',
    'http://localhost/rec.wav',
    'http://[::1]:8080/rec.wav',
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
  ]);
});
