/**
 * A real Chromium for the tests of pages Tessera serves, driven by
 * playwright-core (which downloads nothing): Debian's `chromium` package, or
 * the executable TESSERA_CHROMIUM names. Without one the browser tests skip
 * with a warning, so that `npm test` works on a bare machine; CI installs
 * Chromium and sets TESSERA_REQUIRE_BROWSER=1, which makes its absence a failure.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string | null {
  const configured = process.env.TESSERA_CHROMIUM?.trim();
  const path = (configured ? [configured] : CANDIDATES).find((candidate) => existsSync(candidate));
  if (path) return path;
  if (process.env.TESSERA_REQUIRE_BROWSER === '1') {
    throw new Error(`TESSERA_REQUIRE_BROWSER=1 but no Chromium was found (${configured || CANDIDATES.join(', ')})`);
  }
  console.warn('!! No Chromium found (apt-get install chromium, or set TESSERA_CHROMIUM): the browser tests are SKIPPED.');
  return null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    // This machine has no network beyond loopback: without the background-networking
    // switches Chromium keeps trying Google's hosts. --no-sandbox: CI runs as root.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
