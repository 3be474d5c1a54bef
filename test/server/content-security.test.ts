// The Content-Security-Policies (server/node/content-security.ts): the desktop shell's app page,
// `trove serve`'s app page and library media share one definition, and none lets a form submit
// anywhere (form-action 'none'). Checked on the strings and, in Chromium, on what the policy does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { APP_CSP } from '../../electron/shell/electron-main/trove-protocol.ts';
import { MEDIA_CSP } from '../../electron/server/node/media-routes.ts';
import { RENDERER_CSP } from '../../electron/server/node/static-files.ts';
import { launchChromium, skip } from '../renderer/ui-harness.ts';

function directives(policy: string): Map<string, string> {
  return new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name!, sources.join(' ')]));
}

describe('content security policies', () => {
  it("every policy refuses form submissions: form-action 'none'", () => {
    for (const [name, policy] of Object.entries({ APP_CSP, RENDERER_CSP, MEDIA_CSP })) {
      assert.equal(directives(policy).get('form-action'), "'none'", `${name}: ${policy}`);
    }
  });

  it('the shell and the server send the same app policy, except where media and the API live', () => {
    const shell = directives(APP_CSP);
    const server = directives(RENDERER_CSP);
    const transport = new Set(['img-src', 'media-src', 'connect-src']);
    for (const name of new Set([...shell.keys(), ...server.keys()])) {
      if (!transport.has(name)) assert.equal(shell.get(name), server.get(name), name);
    }
    for (const [name, value] of [['script-src', "'self'"], ['object-src', "'none'"], ['base-uri', "'none'"], ['frame-ancestors', "'none'"]]) {
      assert.equal(shell.get(name), value, name);
    }
    assert.equal(shell.get('media-src'), "'self' trove:");
    assert.equal(server.get('connect-src'), "'self' ws://127.0.0.1:*");
    assert.ok(directives(MEDIA_CSP).has('sandbox'), 'library files run nothing on the app origin');
  });
});

describe('in Chromium', { skip }, () => {
  let browser: Browser;
  let server: Server;
  let url = '';
  let posted = 0;
  let onPost: () => void = () => undefined;

  before(async () => {
    // A page with the server's app policy and a form that would post library text elsewhere.
    server = createServer((request, response) => {
      if (request.method === 'POST') {
        posted += 1;
        onPost();
        response.end('posted');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': RENDERER_CSP });
      response.end('<!doctype html><form id="f" method="post" action="/collect"><input name="text" value="from a note"></form>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('a form on the app page cannot submit', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(url);
      // (Page code as strings: this file is type-checked without DOM types.)
      const violation = page.evaluate<string>(`new Promise((resolve) => document.addEventListener('securitypolicyviolation', (e) => resolve(e.effectiveDirective), { once: true }))`);
      const post = new Promise<string>((resolve) => (onPost = () => resolve('the form was posted')));
      await page.evaluate(`document.getElementById('f').submit()`);
      // Whichever comes first: the browser's refusal, or the post reaching the server.
      assert.equal(await Promise.race([violation.catch((e: Error) => `the page went away: ${e.message}`), post]), 'form-action');
      assert.equal(posted, 0, 'nothing reached the server');
    } finally {
      await page.close();
    }
  });
});
