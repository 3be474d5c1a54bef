import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExternalLinkOpener, externalLinkPrompt, externalUrlToOpen, isAllowedNavigation, isAllowedPermission, isTrustedSender, type ExternalLinkPrompt } from '../../electron/shell/electron-main/navigation-policy.ts';

test('navigation stays on trove://app', () => {
  assert.equal(isAllowedNavigation('trove://app/index.html'), true);
  assert.equal(isAllowedNavigation('trove://app/settings?tab=models'), true);
  for (const url of [
    'file:///etc/passwd',
    'https://example.com/',
    'http://127.0.0.1:7457/',
    'trove://media/file/1',
    'trove://app.evil/index.html',
    'trove://user:pw@app/index.html',
    'javascript:alert(1)',
    'data:text/html,<script>1</script>',
    'about:blank',
    'not a url',
  ]) {
    assert.equal(isAllowedNavigation(url), false, url);
  }
});

test('only the app main frame is a trusted IPC sender', () => {
  assert.equal(isTrustedSender({ url: 'trove://app/index.html', isMainFrame: true }), true);
  assert.equal(isTrustedSender({ url: 'trove://app/index.html', isMainFrame: false }), false, 'a subframe at the app origin');
  assert.equal(isTrustedSender({ url: 'https://example.com/', isMainFrame: true }), false);
  assert.equal(isTrustedSender({ url: 'trove://media/thumb/3', isMainFrame: true }), false);
  assert.equal(isTrustedSender(null), false);
  assert.equal(isTrustedSender(undefined), false);
});

test('external links: http(s) without credentials only', () => {
  assert.equal(externalUrlToOpen('https://github.com/trove'), 'https://github.com/trove');
  assert.equal(externalUrlToOpen('http://example.com'), 'http://example.com/');
  for (const url of ['file:///C:/Windows/system32/calc.exe', 'smb://host/share', 'ms-settings:', 'javascript:alert(1)', 'https://user:pw@example.com/', 'trove://app/', '']) {
    assert.equal(externalUrlToOpen(url), null, url);
  }
});

test('permissions are denied except clipboard writes from the app', () => {
  assert.equal(isAllowedPermission('clipboard-sanitized-write', 'trove://app/index.html'), true);
  assert.equal(isAllowedPermission('clipboard-sanitized-write', 'https://example.com/'), false);
  assert.equal(isAllowedPermission('media', 'trove://app/index.html'), false);
  assert.equal(isAllowedPermission('notifications', 'trove://app/index.html'), false);
  assert.equal(isAllowedPermission('clipboard-read', 'trove://app/index.html'), false);
  assert.equal(isAllowedPermission('clipboard-sanitized-write', null), false);
});

test('a link from shown content is opened only after a confirmation that shows where it goes', async () => {
  for (const refused of ['file:///etc/passwd', 'smb://host/share', 'https://user:pw@example.com/', 'javascript:alert(1)']) assert.equal(externalLinkPrompt(refused), null, refused);
  const prompt = externalLinkPrompt('https://example.com/a b')!;
  assert.equal(prompt.message, 'Open this link in your browser?');
  assert.match(prompt.detail, /^https:\/\/example\.com\/a%20b\n\nIt goes to example\.com\./);
  assert.deepEqual([prompt.buttons, prompt.defaultId, prompt.cancelId], [['Open in browser', 'Cancel'], 1, 1], 'Cancel is the default');

  const opened: string[] = [];
  const questions: ExternalLinkPrompt[] = [];
  let answer = false;
  const opener = new ExternalLinkOpener({ confirm: async (p) => (questions.push(p), answer), openExternal: async (url) => void opened.push(url) });
  assert.equal(await opener.open('https://example.com/docs'), 'cancelled');
  assert.deepEqual(opened, []);
  answer = true;
  assert.equal(await opener.open('https://example.com/docs'), 'opened');
  assert.equal(await opener.open('file:///bin/sh'), 'refused');
  assert.deepEqual(opened, ['https://example.com/docs']);
  assert.equal(questions.length, 2, 'no question for a refused link');
});
