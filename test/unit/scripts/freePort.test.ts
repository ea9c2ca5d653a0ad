// freePort: ports below the ephemeral range (where outgoing connections take theirs), never handed
// out twice by one process, and free when handed out.
import net from 'node:net';
import { freePort } from '../../../scripts/stack';

test('fifty ports: all different, all below 32768, each one bindable', async () => {
  const ports: number[] = [];
  for (let i = 0; i < 50; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(50);
  expect(ports.every((p) => p >= 20_000 && p < 32_768)).toBe(true);
  for (const port of ports.slice(0, 10)) {
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
    });
  }
});
